// The Lua half of the emulated FXServer Lua runtime (see runtime.ts): msgpack, the
// scheduler, events, function references and exports, written after citizenfx/fivem
// data/shared/citizen/scripting/lua/scheduler.lua and the Lua 5.4 msgpack binding
// citizenfx/lua-cmsgpack (branch grit: src/lua_cmsgpack.c, src/lua_cmsgpack.h), built
// with LUACMSGPACK_COMPAT (code/vendor/lua-cmsgpack.lua) and the options scheduler.lua
// sets: string_compat, unsigned integers, arrays without holes, empty table as array.
// Values reach JS only as msgpack bytes, hex-encoded, through the __fx_* functions that
// runtime.ts installs; nothing else crosses.
export const PRELUDE = String.raw`
local fx = {}
for _, k in ipairs({ 'log', 'error', 'now', 'registerEvent', 'trigger', 'triggerClient',
    'canonicalizeRef', 'invokeRef', 'dupRef', 'delRef', 'getExport', 'defineExport',
    'native', 'jsonDecode', 'getState', 'setState', 'addStateHandler', 'removeStateHandler' }) do
  fx[k] = _G['__fx_' .. k]
  _G['__fx_' .. k] = nil
end

local type, error, pairs, next, rawget, rawset, select = type, error, pairs, next, rawget, rawset, select
local getmetatable, setmetatable, tostring, tonumber = getmetatable, setmetatable, tostring, tonumber
local spack, sunpack, sbyte, schar, sformat = string.pack, string.unpack, string.byte, string.char, string.format
local mtype = math.type
local table_pack, table_unpack, table_concat = table.pack, table.unpack, table.concat
local coroutine_running, coroutine_yield = coroutine.running, coroutine.yield

local function tohex(s)
  return (s:gsub('.', function(c) return sformat('%02x', sbyte(c)) end))
end
local function fromhex(h)
  return (h:gsub('..', function(cc) return schar(tonumber(cc, 16)) end))
end

-- ---- output ---------------------------------------------------------------------------

function print(...)
  local n = select('#', ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  fx.log('log', table_concat(parts, '\t'))
end

Citizen = {}

function Citizen.Trace(s)
  s = tostring(s)
  if s:sub(-1) == '\n' then s = s:sub(1, -2) end
  fx.log('log', s)
end

-- ---- vectors ----------------------------------------------------------------------------
-- cfxLua vectors are a primitive type of float32 components; here a table with a
-- metatable, packed as msgpack ext 20/21/22 (lua_cmsgpack.h lua_pack_vector).

local function f32(x) return (sunpack('<f', spack('<f', x))) end
local vectorNames = { 'x', 'y', 'z', 'w' }
local vectorMeta = {}
for n = 2, 4 do
  local mt = { __vector = n, __name = 'vector' .. n }
  mt.__tostring = function(v)
    local parts = {}
    for i = 1, n do parts[i] = sformat('%g', v[vectorNames[i]]) end
    return 'vector' .. n .. '(' .. table_concat(parts, ', ') .. ')'
  end
  mt.__eq = function(a, b)
    for i = 1, n do if a[vectorNames[i]] ~= b[vectorNames[i]] then return false end end
    return true
  end
  vectorMeta[n] = mt
end
local function makeVector(n, ...)
  local v = {}
  for i = 1, n do v[vectorNames[i]] = f32(tonumber((select(i, ...))) or 0) end
  return setmetatable(v, vectorMeta[n])
end
function vector2(x, y) return makeVector(2, x, y) end
function vector3(x, y, z) return makeVector(3, x, y, z) end
function vector4(x, y, z, w) return makeVector(4, x, y, z, w) end
vec2, vec3, vec4 = vector2, vector3, vector4

-- ---- msgpack ------------------------------------------------------------------------------

msgpack = {}
local MAX_NESTING = 16          -- MP_MAX_NESTING; deeper tables become nil (no ERROR_NESTING)
local EXT_FUNCREF, EXT_LOCALFUNCREF = 10, 11
local extensions = {}           -- the LUACMSGPACK_REG_EXT registry: ext type -> encoder table
local typeExtensions = {}       -- msgpack.settype: Lua type name -> ext type

function msgpack.null() return msgpack.null end

function msgpack.extend(t)
  extensions[t.__ext] = t
  return t
end
function msgpack.extend_clear(...)
  for i = 1, select('#', ...) do extensions[(select(i, ...))] = nil end
end
function msgpack.settype(name, ext) typeExtensions[name] = ext end

local function packInt(n, out)  -- msgpack_pack_int64: the smallest format
  if n >= 0 then
    if n < 128 then out[#out + 1] = spack('B', n)
    elseif n < 256 then out[#out + 1] = spack('>BB', 0xcc, n)
    elseif n < 65536 then out[#out + 1] = spack('>BI2', 0xcd, n)
    elseif n < 4294967296 then out[#out + 1] = spack('>BI4', 0xce, n)
    else out[#out + 1] = spack('>Bi8', 0xcf, n) end
  else
    if n >= -32 then out[#out + 1] = spack('b', n)
    elseif n >= -128 then out[#out + 1] = spack('>Bb', 0xd0, n)
    elseif n >= -32768 then out[#out + 1] = spack('>Bi2', 0xd1, n)
    elseif n >= -2147483648 then out[#out + 1] = spack('>Bi4', 0xd2, n)
    else out[#out + 1] = spack('>Bi8', 0xd3, n) end
  end
end

local function packRaw(s, out)  -- string_compat: msgpack v4 raw (no str8)
  local n = #s
  if n < 32 then out[#out + 1] = spack('B', 0xa0 + n)
  elseif n < 65536 then out[#out + 1] = spack('>BI2', 0xda, n)
  else out[#out + 1] = spack('>BI4', 0xdb, n) end
  out[#out + 1] = s
end

local fixExt = { [1] = 0xd4, [2] = 0xd5, [4] = 0xd6, [8] = 0xd7, [16] = 0xd8 }
local function packExt(t, data, out)
  local n = #data
  if fixExt[n] then out[#out + 1] = spack('>Bb', fixExt[n], t)
  elseif n < 256 then out[#out + 1] = spack('>BBb', 0xc7, n, t)
  elseif n < 65536 then out[#out + 1] = spack('>BI2b', 0xc8, n, t)
  else out[#out + 1] = spack('>BI4b', 0xc9, n, t) end
  out[#out + 1] = data
end

local function packHeader(n, fix, b16, b32, out)
  if n < 16 then out[#out + 1] = spack('B', fix + n)
  elseif n < 65536 then out[#out + 1] = spack('>BI2', b16, n)
  else out[#out + 1] = spack('>BI4', b32, n) end
end

-- mp_ext_type: a table holding __cfx_functionReference is a funcref; else a metatable __ext.
local function extType(v)
  if type(v) == 'table' and rawget(v, '__cfx_functionReference') ~= nil then return EXT_FUNCREF end
  local mt = getmetatable(v)
  local t = type(mt) == 'table' and rawget(mt, '__ext') or nil
  if mtype(t) == 'integer' and t >= -128 and t <= 127 then return t end
  return nil
end

-- mp_encode_ext_lua_type: the value's own __pack, else the registry (with type aliases).
local function encodeExt(v, ext, out)
  local mt = getmetatable(v)
  local encoder = type(mt) == 'table' and rawget(mt, '__pack') or nil
  if type(encoder) ~= 'function' then
    local entry = extensions[ext]
    encoder = entry and entry.__pack
    if type(encoder) ~= 'function' then return false end
  end
  local s, raw = encoder(v, ext)
  if type(s) ~= 'string' then error(('invalid encoder result from encoder <%d>'):format(ext)) end
  if raw then out[#out + 1] = s else packExt(ext, s, out) end
  return true
end

-- mp_table_is_an_array with LUACMSGPACK_COMPAT, without_hole, empty_table_as_array.
local function arrayLength(t)
  local count, max = 0, 0
  for k in next, t do
    if mtype(k) == 'integer' and k >= 1 then
      count = count + 1
      if k > max then max = k end
    else
      return nil
    end
  end
  if max == count then return max end
  return nil
end

local packAny

local function packVector(v, n, out)
  local parts = {}
  for i = 1, n do parts[i] = spack('<f', rawget(v, vectorNames[i]) or 0) end
  packExt(18 + n, table_concat(parts), out)
end

local function packTable(t, out, level)
  local mt = getmetatable(t)
  if type(mt) == 'table' and rawget(mt, '__vector') then
    return packVector(t, mt.__vector, out)
  end
  local ext = extType(t)
  if ext then
    if not encodeExt(t, ext, out) then error('msgpack extension type: not registered!') end
    return
  end
  local n = arrayLength(t)
  if n then
    packHeader(n, 0x90, 0xdc, 0xdd, out)
    for j = 1, n do packAny(rawget(t, j), out, level + 1) end
  else
    local count = 0
    for _ in next, t do count = count + 1 end
    packHeader(count, 0x80, 0xde, 0xdf, out)
    for k, v in next, t do
      packAny(k, out, level + 1)
      packAny(v, out, level + 1)
    end
  end
end

packAny = function(v, out, level)
  local tv = type(v)
  if tv == 'table' and level >= MAX_NESTING then tv = 'nil' end
  if tv == 'nil' then out[#out + 1] = '\xc0'
  elseif tv == 'boolean' then out[#out + 1] = v and '\xc3' or '\xc2'
  elseif tv == 'number' then
    -- lua_pack_number: integers as integers, floats as float64 (MP_NUMBER_AS_DOUBLE)
    if mtype(v) == 'integer' then packInt(v, out) else out[#out + 1] = spack('>Bd', 0xcb, v) end
  elseif tv == 'string' then packRaw(v, out)
  elseif tv == 'table' then packTable(v, out, level)
  elseif tv == 'function' and v == msgpack.null then out[#out + 1] = '\xc0'
  else
    local ext = extType(v) or typeExtensions[tv]
    if not ext or not encodeExt(v, ext, out) then
      error(("type <%s> cannot be msgpack'd"):format(tv))
    end
  end
end

function msgpack.pack(...)
  local n = select('#', ...)
  if n == 0 then error('MessagePack pack needs input') end
  local out = {}
  for i = 1, n do packAny((select(i, ...)), out, 0) end
  return table_concat(out)
end

-- The argument list of an event or a call: one array of select('#', ...) values.
function msgpack.pack_args(...)
  local n = select('#', ...)
  local out = {}
  packHeader(n, 0x90, 0xdc, 0xdd, out)
  for i = 1, n do packAny((select(i, ...)), out, 1) end
  return table_concat(out)
end

local unpackAny

local function readVector(t, data)
  local n = t == 23 and 4 or t - 18
  if #data ~= n * 4 then
    error(('msgpack vector: expected <%d> actual <%d>'):format(#data, n * 4))
  end
  local c = {}
  for i = 1, n do c[i] = (sunpack('<f', data, 1 + (i - 1) * 4)) end
  return makeVector(n, table_unpack(c, 1, n))
end

local function readExt(s, pos, n)
  local t = sunpack('b', s, pos)
  local data = s:sub(pos + 1, pos + n)
  if #data < n then error('msgpack format data is incomplete') end
  local nextPos = pos + 1 + n
  if t >= 20 and t <= 23 then return readVector(t, data), nextPos end
  local entry = extensions[t]
  if entry then
    if type(entry.__unpack) ~= 'function' then error('msgpack extension type: invalid decoder!') end
    return entry.__unpack(data, t), nextPos
  end
  return data, nextPos
end

local function readStr(s, pos, n)
  local data = s:sub(pos, pos + n - 1)
  if #data < n then error('msgpack format data is incomplete') end
  return data, pos + n
end

-- lua_createtable(L, n, 0) then lua_rawseti for each element: the array part has n slots,
-- so # and table.unpack see a trailing value after nils ({nil, 'x'} has length 2). A
-- table constructor ending in a call sizes its array part the same way.
local function readArray(s, pos, n)
  local vals = {}
  for i = 1, n do
    vals[i], pos = unpackAny(s, pos)
  end
  if n <= 4096 then return { table_unpack(vals, 1, n) }, pos end
  local t = {}
  for i = 1, n do
    if vals[i] ~= nil then rawset(t, i, vals[i]) end
  end
  return t, pos
end

local function readMap(s, pos, n)
  local t = {}
  for _ = 1, n do
    local k, v
    k, pos = unpackAny(s, pos)
    v, pos = unpackAny(s, pos)
    if k ~= nil then rawset(t, k, v) end
  end
  return t, pos
end

unpackAny = function(s, pos)
  local b = sbyte(s, pos)
  if not b then error('msgpack format data is incomplete') end
  pos = pos + 1
  if b <= 0x7f then return b, pos
  elseif b <= 0x8f then return readMap(s, pos, b - 0x80)
  elseif b <= 0x9f then return readArray(s, pos, b - 0x90)
  elseif b <= 0xbf then return readStr(s, pos, b - 0xa0)
  elseif b >= 0xe0 then return b - 256, pos
  elseif b == 0xc0 then return nil, pos
  elseif b == 0xc2 then return false, pos
  elseif b == 0xc3 then return true, pos
  elseif b == 0xc4 then return readStr(s, pos + 1, sunpack('B', s, pos))
  elseif b == 0xc5 then return readStr(s, pos + 2, sunpack('>I2', s, pos))
  elseif b == 0xc6 then return readStr(s, pos + 4, sunpack('>I4', s, pos))
  elseif b == 0xc7 then return readExt(s, pos + 1, sunpack('B', s, pos))
  elseif b == 0xc8 then return readExt(s, pos + 2, sunpack('>I2', s, pos))
  elseif b == 0xc9 then return readExt(s, pos + 4, sunpack('>I4', s, pos))
  elseif b == 0xca then return sunpack('>f', s, pos)
  elseif b == 0xcb then return sunpack('>d', s, pos)
  elseif b == 0xcc then return sunpack('B', s, pos)
  elseif b == 0xcd then return sunpack('>I2', s, pos)
  elseif b == 0xce then return sunpack('>I4', s, pos)
  elseif b == 0xcf then
    local v, nextPos = sunpack('>i8', s, pos)
    -- above LUA_MAXINTEGER: a float (lua_cmsgpack.c mp_decode_to_lua_type)
    if v < 0 then v = (v & 0x7fffffffffffffff) + 9223372036854775808.0 end
    return v, nextPos
  elseif b == 0xd0 then return sunpack('b', s, pos)
  elseif b == 0xd1 then return sunpack('>i2', s, pos)
  elseif b == 0xd2 then return sunpack('>i4', s, pos)
  elseif b == 0xd3 then return sunpack('>i8', s, pos)
  elseif b >= 0xd4 and b <= 0xd8 then return readExt(s, pos, 1 << (b - 0xd4))
  elseif b == 0xd9 then return readStr(s, pos + 1, sunpack('B', s, pos))
  elseif b == 0xda then return readStr(s, pos + 2, sunpack('>I2', s, pos))
  elseif b == 0xdb then return readStr(s, pos + 4, sunpack('>I4', s, pos))
  elseif b == 0xdc then return readArray(s, pos + 2, sunpack('>I2', s, pos))
  elseif b == 0xdd then return readArray(s, pos + 4, sunpack('>I4', s, pos))
  elseif b == 0xde then return readMap(s, pos + 2, sunpack('>I2', s, pos))
  elseif b == 0xdf then return readMap(s, pos + 4, sunpack('>I4', s, pos))
  end
  error('msgpack format data is invalid')
end

-- Every top-level value of the stream.
function msgpack.unpack(s)
  local values, n, pos = {}, 0, 1
  while pos <= #s do
    local v
    v, pos = unpackAny(s, pos)
    n = n + 1
    values[n] = v
  end
  return table_unpack(values, 1, n)
end

local msgpack_pack, msgpack_unpack, msgpack_pack_args = msgpack.pack, msgpack.unpack, msgpack.pack_args

-- ---- promises (deferred.lua's states: 0 pending, 3 resolved, 4 rejected) ---------------

promise = {}
local promiseMeta = {}
promiseMeta.__index = promiseMeta

function promise.new()
  return setmetatable({ state = 0, queue = {} }, promiseMeta)
end

local function settle(p, state, value)
  if p.state ~= 0 then return end
  p.state, p.value = state, value
  local queue = p.queue
  p.queue = {}
  for _, q in ipairs(queue) do
    local f = state == 3 and q[1] or q[2]
    if f then f(value) end
  end
end

function promiseMeta:resolve(v) settle(self, 3, v) end
function promiseMeta:reject(e) settle(self, 4, e) end
function promiseMeta:next(onResolve, onReject)
  if self.state == 0 then
    self.queue[#self.queue + 1] = { onResolve, onReject }
  elseif self.state == 3 then
    if onResolve then onResolve(self.value) end
  elseif onReject then
    onReject(self.value)
  end
  return self
end

-- ---- scheduler (LuaScriptRuntime.cpp RunBookmark, Lua_Wait, Lua_CreateThreadInternal) ---

local AwaitSentinel = {}
local scheduled = {}
local nextTimer = 1

local runThread
runThread = function(t, ...)
  local res = table_pack(coroutine.resume(t.co, ...))
  if not res[1] then
    local err = tostring(res[2])
    fx.error(t.name, err, debug.traceback(t.co, err))
    return false
  end
  if coroutine.status(t.co) == 'dead' then return false end
  if res.n >= 2 then
    local v = res[2]
    if v == AwaitSentinel then
      -- resume at once with a reattach callback; the thread then sleeps until it is called
      return runThread(t, function() runThread(t) end)
    elseif v == nil or mtype(v) then
      t.wake = fx.now() + (tonumber(v) or 0)
      scheduled[#scheduled + 1] = t
    end
  end
  return true
end

local function newThread(fn, name)
  return { co = coroutine.create(fn), name = name }
end

local function threadName(fn)
  local di = debug.getinfo(fn, 'S')
  return ('thread %s[%d..%d]'):format(di.short_src, di.linedefined, di.lastlinedefined)
end

function Citizen.CreateThread(fn)
  local t = newThread(fn, threadName(fn))
  t.id = nextTimer
  nextTimer = nextTimer + 1
  t.wake = fx.now()
  scheduled[#scheduled + 1] = t
  return t.id
end

function Citizen.CreateThreadNow(fn, name)
  return runThread(newThread(fn, name or threadName(fn)))
end

function Citizen.SetTimeout(ms, fn)
  local t = newThread(fn, threadName(fn))
  t.id = nextTimer
  nextTimer = nextTimer + 1
  t.wake = fx.now() + (tonumber(ms) or 0)
  scheduled[#scheduled + 1] = t
  return t.id
end

function Citizen.ClearTimeout(id)
  for i, t in ipairs(scheduled) do
    if t.id == id then
      table.remove(scheduled, i)
      return true
    end
  end
  return false
end

function Citizen.Wait(ms)
  coroutine_yield(ms)
end

function Citizen.Await(p)
  local coro = coroutine_running()
  assert(coro, 'Current execution context is not in the scheduler, you should use CreateThread / SetTimeout or Event system (AddEventHandler) to be able to Await')
  if p.state == 0 then
    local reattach = coroutine_yield(AwaitSentinel)
    p:next(reattach, reattach)
    coroutine_yield()
  end
  if p.state == 2 or p.state == 4 then
    error(p.value, 2)
  end
  return p.value
end

Wait = Citizen.Wait
CreateThread = Citizen.CreateThread
SetTimeout = Citizen.SetTimeout
ClearTimeout = Citizen.ClearTimeout

local function tick()
  local now = fx.now()
  local due = {}
  for i = #scheduled, 1, -1 do
    if scheduled[i].wake <= now then
      due[#due + 1] = table.remove(scheduled, i)
    end
  end
  table.sort(due, function(a, b) return a.wake < b.wake end)
  for _, t in ipairs(due) do runThread(t) end
end

local function nextWake()
  local min
  for _, t in ipairs(scheduled) do
    if not min or t.wake < min then min = t.wake end
  end
  if not min then return -1 end
  return math.max(0, min - fx.now())
end

-- ---- function references (scheduler.lua) ----------------------------------------------

local funcRefs = {}
local funcRefIdx = 0

local function MakeFunctionReference(func)
  local thisIdx = funcRefIdx
  funcRefs[thisIdx] = { func = func, refs = 0 }
  funcRefIdx = funcRefIdx + 1
  return fx.canonicalizeRef(thisIdx)
end

function Citizen.GetFunctionReference(func)
  if type(func) == 'function' then
    return MakeFunctionReference(func)
  elseif type(func) == 'table' and rawget(func, '__cfx_functionReference') then
    return MakeFunctionReference(function(...) return func(...) end)
  end
  return nil
end

local function doStackFormat(err)
  return sformat('^1SCRIPT ERROR: %s^7\n%s', tostring(err or ''), debug.traceback())
end

local function callRef(refId, argsSerialized)
  local refPtr = funcRefs[refId]
  if not refPtr then
    Citizen.Trace('Invalid ref call attempt: ' .. refId .. '\n')
    return msgpack_pack(nil)
  end
  local ref = refPtr.func
  local err, rawErr
  local retvals = false
  local cb = {}
  local di = debug.getinfo(ref, 'S')
  local waited = Citizen.CreateThreadNow(function()
    local status, result = xpcall(function()
      retvals = { ref(table_unpack(msgpack_unpack(argsSerialized))) }
    end, function(e)
      rawErr = e
      return doStackFormat(e)
    end)
    if not status then err = result or '' end
    if cb.cb then
      cb.cb(retvals, err)
    elseif err then
      fx.error('function reference', tostring(rawErr), err)
    end
  end, ('ref call [%s[%d..%d]]'):format(di.short_src, di.linedefined, di.lastlinedefined))
  if not waited then
    if err then return msgpack_pack(nil) end
    return msgpack_pack(retvals)
  else
    return msgpack_pack({ {
      __cfx_async_retval = function(rvcb) cb.cb = rvcb end,
    } })
  end
end

local funcref_mt
funcref_mt = msgpack.extend({
  __gc = function(t)
    fx.delRef(rawget(t, '__cfx_functionReference'))
  end,
  __index = function(t, k)
    error('Cannot index a funcref', 2)
  end,
  __newindex = function(t, k, v)
    error('Cannot set indexes on a funcref', 2)
  end,
  __call = function(t, ...)
    local ref = rawget(t, '__cfx_functionReference')
    local args = msgpack_pack_args(...)
    local rv = fx.invokeRef(ref, tohex(args))
    if not rv then
      error('Execution of function reference in script host failed: Unknown')
    end
    local rvs = msgpack_unpack(fromhex(rv))
    -- handle async retvals from refs
    if rvs and type(rvs[1]) == 'table' and rawget(rvs[1], '__cfx_async_retval') and coroutine_running() then
      local p = promise.new()
      rvs[1].__cfx_async_retval(function(r, e)
        if r then
          p:resolve(r)
        elseif e then
          p:reject(e)
        end
      end)
      return table_unpack(Citizen.Await(p))
    end
    if not rvs then error() end
    return table_unpack(rvs)
  end,
  __ext = EXT_FUNCREF,
  __pack = function(self, tag)
    local refstr = Citizen.GetFunctionReference(self)
    if refstr then return refstr end
    error(('Unknown funcref type: %d %s'):format(tag, type(self)), 2)
  end,
  __unpack = function(data, tag)
    local ref = data
    fx.dupRef(ref)
    return setmetatable({ __cfx_functionReference = ref }, funcref_mt)
  end,
})
msgpack.extend({ __ext = EXT_LOCALFUNCREF, __pack = funcref_mt.__pack, __unpack = funcref_mt.__unpack })
msgpack.settype('function', EXT_FUNCREF)

-- ---- events (scheduler.lua SetEventRoutine, AddEventHandler, RegisterNetEvent) ---------

local eventHandlers = {}
local eventKey = 10

local function onEvent(eventName, payloadHex, eventSource)
  local lastSource = _G.source
  _G.source = eventSource
  local eventHandlerEntry = eventHandlers[eventName]
  local data = msgpack_unpack(fromhex(payloadHex))
  if eventHandlerEntry and eventHandlerEntry.handlers then
    if eventSource:sub(1, 3) == 'net' then
      if not eventHandlerEntry.safeForNet then
        Citizen.Trace('event ' .. eventName .. ' was not safe for net\n')
        _G.source = lastSource
        return
      end
      _G.source = tonumber(eventSource:sub(5))
    elseif eventSource:sub(1, 12) == 'internal-net' then
      _G.source = tonumber(eventSource:sub(14))
    end
    if not data then data = {} end
    if type(data) == 'table' then
      for _, handler in pairs(eventHandlerEntry.handlers) do
        local handlerFn = handler
        local handlerMT = getmetatable(handlerFn)
        if handlerMT and handlerMT.__call then handlerFn = handlerMT.__call end
        if type(handlerFn) == 'function' then
          Citizen.CreateThreadNow(function()
            handler(table_unpack(data))
          end, 'event ' .. eventName)
        end
      end
    end
  end
  _G.source = lastSource
end

function AddEventHandler(eventName, eventRoutine)
  local tableEntry = eventHandlers[eventName]
  if not tableEntry then
    tableEntry = {}
    eventHandlers[eventName] = tableEntry
  end
  if not tableEntry.handlers then tableEntry.handlers = {} end
  eventKey = eventKey + 1
  tableEntry.handlers[eventKey] = eventRoutine
  fx.registerEvent(eventName)
  return { key = eventKey, name = eventName }
end

function RemoveEventHandler(eventData)
  if not eventData or not eventData.key or not eventData.name then
    error('Invalid event data passed to RemoveEventHandler()', 2)
  end
  eventHandlers[eventData.name].handlers[eventData.key] = nil
end

function RegisterNetEvent(eventName, cb)
  local tableEntry = eventHandlers[eventName]
  if not tableEntry then
    tableEntry = {}
    eventHandlers[eventName] = tableEntry
  end
  tableEntry.safeForNet = true
  if cb then return AddEventHandler(eventName, cb) end
end
RegisterServerEvent = RegisterNetEvent

function TriggerEvent(eventName, ...)
  fx.trigger(eventName, tohex(msgpack_pack_args(...)))
end

function TriggerClientEvent(eventName, playerId, ...)
  fx.triggerClient(eventName, playerId, tohex(msgpack_pack_args(...)))
end

function TriggerLatentClientEvent(eventName, playerId, bps, ...)
  fx.triggerClient(eventName, playerId, tohex(msgpack_pack_args(...)))
end

-- ---- natives ----------------------------------------------------------------------------

local function native(name, ...)
  local res = fx.native(name, tohex(msgpack_pack_args(...)))
  if res:sub(1, 1) == '!' then error(res:sub(2), 3) end
  return (msgpack_unpack(fromhex(res)))
end

for _, name in ipairs({ 'GetPlayerPed', 'GetEntityCoords', 'GetEntityHeading', 'DoesEntityExist',
    'GetPlayerName', 'GetNumPlayerIdentifiers', 'GetPlayerIdentifier', 'GetPlayerIdentifierByType',
    'GetNumPlayerIndices', 'GetPlayerFromIndex', 'IsPlayerAceAllowed', 'GetConvar', 'GetConvarInt',
    'GetResourceState', 'GetInvokingResource', 'GetCurrentResourceName', 'GetGameTimer',
    'DoesPlayerExist' }) do
  _G[name] = function(...) return native(name, ...) end
end

function IsDuplicityVersion() return true end

function GetPlayerIdentifiers(player)
  local numIds = GetNumPlayerIdentifiers(player)
  local t = {}
  for i = 0, numIds - 1 do table.insert(t, GetPlayerIdentifier(player, i)) end
  return t
end

function GetPlayers()
  local num = GetNumPlayerIndices()
  local t = {}
  for i = 0, num - 1 do table.insert(t, GetPlayerFromIndex(i)) end
  return t
end

-- ---- state bags (scheduler.lua NewStateBag, playerMT, Player, GlobalState) -------------
-- The natives GET_STATE_BAG_VALUE / SET_STATE_BAG_VALUE (ResourceScriptFunctions.cpp):
-- the value travels as the msgpack bytes the setter packed, hex-encoded to the kernel.

local isDuplicityVersion = true

function GetStateBagValue(bagName, key)
  local hex = fx.getState(tostring(bagName), tostring(key))
  if hex == '' then return nil end
  return (msgpack_unpack(fromhex(hex)))
end

function SetStateBagValue(bagName, key, payload, size, replicated)
  payload = tostring(payload)
  if size then payload = payload:sub(1, size) end
  return fx.setState(tostring(bagName), tostring(key), tohex(payload), replicated == true)
end

function StateBagHasKey(bagName, key)
  return fx.getState(tostring(bagName), tostring(key)) ~= ''
end

function AddStateBagChangeHandler(keyFilter, bagFilter, handler)
  local ref = Citizen.GetFunctionReference(handler)
  if not ref then error('AddStateBagChangeHandler: handler must be a function', 2) end
  return fx.addStateHandler(keyFilter and tostring(keyFilter) or '',
    bagFilter and tostring(bagFilter) or '', ref)
end

function RemoveStateBagChangeHandler(cookie)
  fx.removeStateHandler(cookie)
end

local EXT_ENTITY, EXT_PLAYER = 41, 42
msgpack.extend_clear(EXT_ENTITY, EXT_PLAYER)

local function NewStateBag(es)
  return setmetatable({}, {
    __index = function(_, s)
      if s == 'set' then
        return function(_, s2, v2, r2)
          local payload = msgpack_pack(v2)
          SetStateBagValue(es, s2, payload, payload:len(), r2)
        end
      end
      return GetStateBagValue(es, s)
    end,
    __newindex = function(_, s, v)
      local payload = msgpack_pack(v)
      SetStateBagValue(es, s, payload, payload:len(), isDuplicityVersion)
    end,
  })
end

GlobalState = NewStateBag('global')

local playerMT
playerMT = {
  __index = function(t, s)
    if s == 'state' then
      -- Player(-1) is the client's LocalPlayer; the server has no such thing.
      return NewStateBag(('player:%d'):format(t.__data))
    end
    return nil
  end,
  __newindex = function()
    error('Setting values on Player is not supported at this time.', 2)
  end,
  __ext = EXT_PLAYER,
  __pack = function(self, t) return tostring(self.__data) end,
  __unpack = function(data, t) return setmetatable({ __data = tonumber(data) }, playerMT) end,
}
msgpack.extend(playerMT)

function Player(ent)
  if type(ent) == 'number' or type(ent) == 'string' then
    return setmetatable({ __data = tonumber(ent) }, playerMT)
  end
  return ent
end

-- ---- exports (scheduler.lua) ------------------------------------------------------------

local exportsCallbackCache = {}
local exportedFunctions = {}

local function lazyEventHandler()
  AddEventHandler('onServerResourceStop', function(resource)
    exportsCallbackCache[resource] = {}
  end)
  lazyEventHandler = function() end
end

local function prefixNewlines(str, prefix)
  str = tostring(str)
  if #str == 0 then return str end
  return prefix .. str:gsub('\n(.)', '\n' .. prefix .. '%1')
end

local function exportProcessResult(resource, exportName, status, ...)
  if not status then
    local result = tostring(select(1, ...))
    if result:len() > 2048 then
      result = result:sub(1, 1024) .. '\n... [large output partially truncated] ...\n' .. result:sub(-1024)
    end
    error(('\n^5 An error occurred while calling export ' .. '%s' .. ' in resource ' .. '%s' .. ':\n%s\n^5 ---')
      :format('\x60' .. exportName .. '\x60', '\x60' .. resource .. '\x60', prefixNewlines(result, '  ')), 2)
  end
  return ...
end

exports = setmetatable({}, {
  __index = function(t, k)
    local resource = k
    return setmetatable({}, {
      __index = function(t2, k2)
        lazyEventHandler()
        if not k2 or type(k2) ~= 'string' then
          error('Invalid export name: ' .. tostring(k2), 2)
        end
        if not exportsCallbackCache[resource] then exportsCallbackCache[resource] = {} end
        if not exportsCallbackCache[resource][k2] then
          -- scheduler.lua triggers __cfx_export_<resource>_<name> with a setCB callback,
          -- which receives the export as a function reference: the same thing, directly.
          local ref = fx.getExport(resource, k2)
          if ref then exportsCallbackCache[resource][k2] = funcref_mt.__unpack(ref, EXT_FUNCREF) end
          if not exportsCallbackCache[resource][k2] then
            error('No such export ' .. k2 .. ' in resource ' .. resource, 2)
          end
        end
        return function(self, ...) -- TAILCALL
          return exportProcessResult(resource, k2, pcall(exportsCallbackCache[resource][k2], ...))
        end
      end,
      __newindex = function(t, k, v)
        error('cannot set values on an export resource', 2)
      end,
    })
  end,
  __newindex = function(t, k, v)
    error('cannot set values on exports', 2)
  end,
  __call = function(t, exportName, func)
    AddEventHandler(('__cfx_export_%s_%s'):format(GetCurrentResourceName(), exportName), function(setCB)
      setCB(func)
    end)
    exportedFunctions[exportName] = func
    fx.defineExport(exportName)
  end,
})

-- ---- json (rapidjson as scheduler.lua sets it: empty table as array, with holes) ---------

json = {}

local function jsonString(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or sformat('\\u%04x', sbyte(c))
  end) .. '"'
end

local function jsonEncode(v, depth)
  local tv = type(v)
  if v == nil or v == msgpack.null then return 'null'
  elseif tv == 'boolean' then return tostring(v)
  elseif tv == 'number' then
    if v ~= v or v == math.huge or v == -math.huge then return 'null' end
    if mtype(v) == 'integer' then return tostring(v) end
    return sformat('%.14g', v)
  elseif tv == 'string' then return jsonString(v)
  elseif tv == 'table' then
    if depth > 32 then error('json.encode: table nested too deeply') end
    local mt = getmetatable(v)
    if type(mt) == 'table' and rawget(mt, '__vector') then
      local parts = {}
      for i = 1, mt.__vector do parts[i] = jsonEncode(v[vectorNames[i]], depth + 1) end
      return '[' .. table_concat(parts, ',') .. ']'
    end
    local max, isArray = 0, true
    for k in next, v do
      if mtype(k) == 'integer' and k >= 1 then
        if k > max then max = k end
      else
        isArray = false
        break
      end
    end
    local parts = {}
    if isArray then
      for i = 1, max do parts[i] = jsonEncode(rawget(v, i), depth + 1) end
      return '[' .. table_concat(parts, ',') .. ']'
    end
    for k, val in next, v do
      parts[#parts + 1] = jsonString(tostring(k)) .. ':' .. jsonEncode(val, depth + 1)
    end
    return '{' .. table_concat(parts, ',') .. '}'
  end
  error('json.encode: cannot encode a ' .. tv)
end

function json.encode(v) return jsonEncode(v, 0) end

function json.decode(s)
  local res = fx.jsonDecode(tostring(s))
  if res:sub(1, 1) == '!' then return nil, res:sub(2) end
  return (msgpack_unpack(fromhex(res)))
end

-- ---- entry points for runtime.ts ---------------------------------------------------------

__fx_entry = {
  main = function(code, chunkName)
    local fn, err = load(code, chunkName, 't')
    if not fn then return '!' .. tostring(err) end
    Citizen.CreateThreadNow(fn, 'script load ' .. chunkName)
    return ''
  end,
  event = function(name, payloadHex, eventSource)
    onEvent(name, payloadHex, eventSource)
  end,
  callRef = function(refId, argsHex)
    return tohex(callRef(math.tointeger(refId) or refId, fromhex(argsHex)))
  end,
  duplicateRef = function(refId)
    local ref = funcRefs[math.tointeger(refId) or refId]
    if ref then ref.refs = ref.refs + 1 end
  end,
  deleteRef = function(refId)
    refId = math.tointeger(refId) or refId
    local ref = funcRefs[refId]
    if ref then
      ref.refs = ref.refs - 1
      if ref.refs <= 0 then funcRefs[refId] = nil end
    end
  end,
  exportRef = function(name)
    return Citizen.GetFunctionReference(exportedFunctions[name]) or ''
  end,
  tick = function() tick() end,
  nextWake = function() return nextWake() end,
}
`;
