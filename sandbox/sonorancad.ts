/**
 * sonorancad stand-in: the part of Sonoran's own FiveM resource that turns the CAD's push
 * events about dispatch calls into local server events, as one Lua 5.4 server script.
 * Written after (never copied from) github.com/Sonoran-Software/SonoranCADFiveM
 * dcbe3f454a9f1ea2d56735219ff9647f18203cea:
 * - sonorancad/core/httpd.lua, the push handlers EVENT_UNIT_LOGIN, EVENT_DISPATCH_CLOSED
 *   and EVENT_DISPATCH_UNIT_ATTACH: a close marks the cached call status 2 and raises
 *   `SonoranCAD::pushevents:DispatchEvent({ dispatch_type = 'CALL_CLOSE', dispatch = call })`
 *   for the first id of `callIds` only (it returns there); an attach raises
 *   `SonoranCAD::pushevents:UnitAttach(callCacheEntry, unitCacheEntry)` for each ident,
 *   before adding the ident to the cached call, and stops at the first unknown call or unit.
 *   A call not in the cache raises nothing, for a close and an attach alike.
 * - sonorancad/core/unittracking.lua: the call cache, keyed by call id, which the Get Calls
 *   poll (every 60 s) fills with `{ dispatch = call }` for active calls only, without a
 *   `dispatch_type` and without raising anything; SetCallCache raising
 *   `SonoranCAD::pushevents:CallCacheUpdated`; the unit cache, a list searched by `id`.
 * - SonoranCAD-Documentation 7b781ecb90711f73c15705b4de74ed6a27a35c61 for the shapes: a call
 *   as Get Calls lists it (api-endpoints-v2/emergency/calls/get-calls.md), a unit as
 *   EVENT_UNIT_LOGIN sends it (push-events/unit-events/unit-login.md).
 *
 * Left out: the HTTP route and the websocket (a push is handed in by `sandbox_push`), the
 * API key check, `SonoranCAD::RegisterPushEvent` handlers, the polls themselves (played by
 * `sandbox_knowCall`), unit lookups by identity (only by numeric ident), every other push
 * type, and the submodules (dispatchnotify re-raises UnitAttach for a CALL_NEW; a call we
 * create through the API is never CALL_NEW). Test-only exports start with `sandbox_`:
 * - `sandbox_knowCall(callId, title?)`: the call enters the cache as the poll would put it.
 * - `sandbox_knowUnit(name)`: the ident of the unit with that name, logged in first through
 *   EVENT_UNIT_LOGIN (idents from 101) when the cache has none.
 * - `sandbox_push(type, data)`: runs the handler of that wire type on `data`;
 *   answers `{ ok, reason? }` as the handler returned.
 */
import type { FxServer } from './emulator';
import { exportOf, startLua } from './frameworks/drive';

export const SONORANCAD_LUA = `
local CallCache = {}
local UnitCache = {}
local nextIdent = 101

local function GetCallCache() return CallCache end
local function GetUnitCache() return UnitCache end
local function SetCallCache(k, v)
  CallCache[k] = v
  TriggerEvent('SonoranCAD::pushevents:CallCacheUpdated')
end
local function GetUnitById(id)
  for k, v in pairs(UnitCache) do
    if v.id == id then return k end
  end
  return nil
end
local function SetUnitCache(k, v)
  local key = GetUnitById(k)
  if key ~= nil and UnitCache[key] ~= nil then
    UnitCache[key] = v
  else
    table.insert(UnitCache, v)
  end
end

local PushHandlers = {
  EVENT_UNIT_LOGIN = function(body)
    if not body.data.unit.id then return false, 'missing ID' end
    local unit = body.data.unit
    unit.isDispatch = body.data.isDispatch
    SetUnitCache(unit.id, unit)
    TriggerEvent('SonoranCAD::pushevents:UnitLogin', unit)
    return true
  end,
  EVENT_DISPATCH_CLOSED = function(body)
    for i = 1, #body.data.callIds do
      local id = body.data.callIds[i]
      if GetCallCache()[id] ~= nil then
        local call = GetCallCache()[id].dispatch
        local d = {
          dispatch_type = 'CALL_CLOSE',
          dispatch = call.dispatch ~= nil and call.dispatch or call,
        }
        d.dispatch.status = 2
        SetCallCache(id, d)
        TriggerEvent('SonoranCAD::pushevents:DispatchEvent', d)
        return true
      else
        return false, 'unknown call close'
      end
    end
  end,
  EVENT_DISPATCH_UNIT_ATTACH = function(body)
    local call = GetCallCache()[body.data.callId]
    local idents = {}
    if body.data.idents ~= nil then
      idents = body.data.idents
    elseif body.data.ident ~= nil then
      table.insert(idents, body.data.ident)
    end
    for i = 1, #idents do
      local unit = GetUnitById(idents[i])
      if call and unit then
        TriggerEvent('SonoranCAD::pushevents:UnitAttach', call, GetUnitCache()[unit])
        local idx = nil
        for x = 1, #call.dispatch.idents do
          if call.dispatch.idents[x] == idents[i] then idx = x end
        end
        if idx == nil then
          table.insert(call.dispatch.idents, idents[i])
          SetCallCache(body.data.callId, {
            dispatch_type = 'CALL_EDIT',
            dispatch = call.dispatch ~= nil and call.dispatch or call,
          })
        end
      else
        return false, 'invalid call or unit'
      end
    end
    return true
  end,
}

-- ---- sandbox_: driven by tests only ----
exports('sandbox_push', function(pushType, data)
  local handler = PushHandlers[pushType]
  if not handler then return { ok = false, reason = 'no handler in the stand-in' } end
  local ok, reason = handler({ type = pushType, data = data })
  return { ok = ok == true, reason = reason }
end)

-- As the Get Calls poll stores an active call: no dispatch_type, nothing raised.
exports('sandbox_knowCall', function(callId, title)
  CallCache[callId] = { dispatch = {
    callId = callId, origin = 0, status = 1, priority = 1,
    block = '', address = '', postal = '', code = '',
    title = title or ('Call ' .. tostring(callId)),
    description = '', trackPrimary = false,
    notes = {}, idents = {}, metaData = {},
    updated = os.date('!%Y-%m-%dT%H:%M:%SZ'),
  } }
  return true
end)

exports('sandbox_knowUnit', function(name)
  for _, unit in pairs(UnitCache) do
    if unit.data and unit.data.name == name then return unit.id end
  end
  local id = nextIdent
  nextIdent = nextIdent + 1
  PushHandlers.EVENT_UNIT_LOGIN({ type = 'EVENT_UNIT_LOGIN', data = {
    unit = {
      id = id, accId = ('00000000-0000-0000-0000-%012d'):format(id),
      status = 2, isPanic = false, location = '', aop = '',
      data = {
        apiIds = {}, communityUserId = 'sandbox-' .. id,
        unitNum = ('A-%d'):format(id), name = name, district = '', department = 'LSPD',
        subdivision = '', rank = '', group = '', page = 0,
      },
    },
    isDispatch = false,
  } })
  return id
end)
`;

/** What a push handler answered: sonorancad's `true` or `false, reason`. */
export interface PushResult {
  ok: boolean;
  reason?: string;
}

/** One export of the sonorancad stand-in. */
const sandbox = (fx: FxServer, name: string) => exportOf(fx, 'sonorancad', name);

/** The dispatcher's ident a push names in eventOriginIdent; sonorancad never reads it. */
const DISPATCHER_IDENT = 1;

export const SonorancadStandIn = {
  resource: 'sonorancad',
  async start(fx: FxServer): Promise<void> {
    await startLua(fx, 'sonorancad', SONORANCAD_LUA);
  },
  /** The call enters sonorancad's cache, as its 60 s Get Calls poll would put it there. */
  async knowCall(fx: FxServer, callId: number, title?: string): Promise<void> {
    await sandbox(fx, 'sandbox_knowCall')(callId, title ?? null);
  },
  /** Hands sonorancad one push of the wire type with `data`, as the CAD would. */
  async push(fx: FxServer, type: string, data: unknown): Promise<PushResult> {
    return (await sandbox(fx, 'sandbox_push')(type, data)) as PushResult;
  },
  /** A dispatcher closed the call: EVENT_DISPATCH_CLOSED. A call not cached raises nothing. */
  closeCall(fx: FxServer, callId: number): Promise<PushResult> {
    return SonorancadStandIn.push(fx, 'EVENT_DISPATCH_CLOSED', {
      eventOriginIdent: DISPATCHER_IDENT,
      callIds: [callId],
    });
  },
  /**
   * A dispatcher attached the unit (by name; logged in first if sonorancad has no unit of
   * that name): EVENT_DISPATCH_UNIT_ATTACH. A call not cached raises nothing.
   */
  async attachUnit(fx: FxServer, callId: number, unit: string): Promise<PushResult> {
    const ident = (await sandbox(fx, 'sandbox_knowUnit')(unit)) as number;
    return SonorancadStandIn.push(fx, 'EVENT_DISPATCH_UNIT_ATTACH', {
      eventOriginIdent: DISPATCHER_IDENT,
      ident,
      callId,
    });
  },
};
