/**
 * QBCore stand-in: qb-core, qb-ambulancejob, qb-policejob and qb-inventory as Lua 5.4
 * server scripts, written after (never copied from):
 * - github.com/qbcore-framework/qb-core 37d3b84866b05b2f204a8d75cc4cc515cee8f174:
 *   server/player.lua (the Player class and its method table, Login, CheckPlayerData,
 *   CreatePlayer, Logout, buildInterface and the GetPlayer export), server/functions.lua
 *   (QBCore.Functions and the loop exporting them), server/events.lua (playerDropped,
 *   QBCore:ToggleDuty, QBCore:Server:OnPlayerUpdated re-fired as OnJobUpdate/OnGangUpdate),
 *   config.lua (PlayerDefaults), shared/jobs.lua (string grade keys, type 'leo'/'ems').
 * - github.com/qbcore-framework/qb-ambulancejob 9d01cc938007665d3657837b3e1da89f039f38b2:
 *   server/main.lua (hospital:server:SetDeathStatus, hospital:server:SetLaststandStatus).
 * - github.com/qbcore-framework/qb-policejob 1dd32289a99f85b144d69cf7154139909027789e:
 *   server/main.lua (police:server:SetHandcuffStatus).
 * - github.com/qbcore-framework/qb-inventory 43334c18c341a70835bc5cb5c386dc6cf2979cd3:
 *   server/functions.lua (LoadInventory, SaveInventory, GetItemCount, HasItem, AddItem).
 *
 * Left out: the database, gangs' grades, money logs, callbacks and commands; the resources
 * reach qb-core through its exports where the real ones hold GetCoreObject(). Test-only
 * exports start with `sandbox_`; everything else answers as the real export does.
 */
import type { FxServer, Player } from '../emulator';
import { coreDuty, exportOf, startLua } from './drive';
import type { FrameworkStandIn, InventoryStandIn } from './types';

export const QB_CORE = `
local broken = false
QBCore = { Players = {}, PlayersByCitizenId = {}, Player = {}, Functions = {}, Shared = {} }
QBCore.Shared.ForceJobDefaultDutyAtLogin = true
QBCore.Shared.Jobs = {
  unemployed = { label = 'Civilian', defaultDuty = true, grades = { ['0'] = { name = 'Freelancer', payment = 10 } } },
  police = { label = 'Law Enforcement', type = 'leo', defaultDuty = true, grades = {
    ['0'] = { name = 'Recruit', payment = 50 }, ['1'] = { name = 'Officer', payment = 75 },
    ['2'] = { name = 'Sergeant', payment = 100 }, ['3'] = { name = 'Lieutenant', payment = 125 },
    ['4'] = { name = 'Chief', isboss = true, payment = 150 } } },
  ambulance = { label = 'EMS', type = 'ems', defaultDuty = true, grades = {
    ['0'] = { name = 'Recruit', payment = 50 }, ['1'] = { name = 'Paramedic', payment = 75 } } },
}
QBCore.Shared.Gangs = { none = { label = 'No Gang', grades = { ['0'] = { name = 'Unaffiliated' } } } }

local function realExport(name, fn)
  exports(name, function(...)
    if broken then error(('qb-core export %s is broken (sandbox)'):format(name)) end
    return fn(...)
  end)
end

-- ---- server/functions.lua ----
function QBCore.Functions.GetIdentifier(source, idtype)
  return GetPlayerIdentifierByType(source, idtype or 'license')
end

function QBCore.Functions.GetSource(identifier)
  for src in pairs(QBCore.Players) do
    for _, id in pairs(GetPlayerIdentifiers(src)) do
      if identifier == id then return src end
    end
  end
  return 0
end

function QBCore.Functions.GetPlayer(source)
  if tonumber(source) ~= nil then return QBCore.Players[tonumber(source)] end
  return QBCore.Players[QBCore.Functions.GetSource(source)]
end

function QBCore.Functions.GetPlayerByCitizenId(citizenid)
  return QBCore.PlayersByCitizenId[citizenid]
end

function QBCore.Functions.HasItem(source, items, amount)
  if GetResourceState('qb-inventory') == 'missing' then return end
  return exports['qb-inventory']:HasItem(source, items, amount)
end

function QBCore.Functions.Notify(source, text, notifyType, length)
  TriggerClientEvent('QBCore:Notify', source, text, notifyType, length)
end

function QBCore.Functions.CreatePhoneNumber()
  return math.random(100, 999) .. math.random(1000000, 9999999)
end

for functionName, func in pairs(QBCore.Functions) do
  if type(func) == 'function' then realExport(functionName, func) end
end

-- ---- server/player.lua ----
local varargMethods = {
  'GetPlayerData', 'UpdateClient', 'SetJob', 'SetGang', 'Notify', 'HasItem',
  'SetJobDuty', 'SetPlayerData', 'SetMetaData', 'GetMetaData',
  'AddRep', 'RemoveRep', 'GetRep', 'AddMoney', 'RemoveMoney', 'SetMoney', 'GetMoney',
  'AddMethod', 'AddField',
}
local noargMethods = { 'GetName', 'Save', 'Logout' }

local function buildMethodTable(player)
  local t = {}
  for _, name in ipairs(varargMethods) do
    local fn = player[name]
    t[name] = function(...) return fn(player, ...) end
  end
  for _, name in ipairs(noargMethods) do
    local fn = player[name]
    t[name] = function() return fn(player) end
  end
  return t
end

local Player = {}
Player.__index = Player

function Player.new(PlayerData, Offline)
  local self = setmetatable({}, Player)
  self.PlayerData = PlayerData
  self.Offline = Offline or false
  self.Functions = buildMethodTable(self)
  self.Functions.UpdatePlayerData = self.Functions.UpdateClient
  return self
end

function Player:GetPlayerData() return self.PlayerData end

function Player:UpdateClient(key, val)
  if self.Offline then return end
  if key then
    TriggerEvent('QBCore:Server:OnPlayerUpdated', self.PlayerData.source, key, val)
    TriggerClientEvent('QBCore:Client:OnPlayerUpdated', self.PlayerData.source, key, val)
  else
    TriggerEvent('QBCore:Player:SetPlayerData', self.PlayerData)
    TriggerEvent('QBCore:Server:OnPlayerUpdated', self.PlayerData.source, 'all', self.PlayerData)
    TriggerClientEvent('QBCore:Client:OnPlayerUpdated', self.PlayerData.source, 'all', self.PlayerData)
  end
end

function Player:SetJob(job, grade)
  job = job:lower()
  grade = grade or '0'
  local info = QBCore.Shared.Jobs[job]
  if not info then return false end
  self.PlayerData.job = {
    name = job, label = info.label, onduty = info.defaultDuty, type = info.type or 'none',
    grade = { name = 'No Grades', level = 0, payment = 30, isboss = false },
  }
  local gradeKey = tostring(grade)
  local gradeInfo = info.grades[gradeKey]
  if gradeInfo then
    self.PlayerData.job.grade.name = gradeInfo.name
    self.PlayerData.job.grade.level = tonumber(gradeKey)
    self.PlayerData.job.grade.payment = gradeInfo.payment
    self.PlayerData.job.grade.isboss = gradeInfo.isboss or false
    self.PlayerData.job.isboss = gradeInfo.isboss or false
  end
  if not self.Offline then self:UpdateClient('job', self.PlayerData.job) end
  return true
end

function Player:SetGang(gang, grade)
  gang = gang:lower()
  local info = QBCore.Shared.Gangs[gang]
  if not info then return false end
  self.PlayerData.gang = { name = gang, label = info.label, grade = { name = 'No Grades', level = 0, isboss = false } }
  if not self.Offline then self:UpdateClient('gang', self.PlayerData.gang) end
  return true
end

function Player:Notify(text, notifyType, length)
  TriggerClientEvent('QBCore:Notify', self.PlayerData.source, text, notifyType, length)
end

function Player:HasItem(items, amount)
  return QBCore.Functions.HasItem(self.PlayerData.source, items, amount)
end

function Player:GetName()
  return self.PlayerData.charinfo.firstname .. ' ' .. self.PlayerData.charinfo.lastname
end

function Player:SetJobDuty(onDuty)
  self.PlayerData.job.onduty = not not onDuty
  if not self.Offline then self:UpdateClient('job', self.PlayerData.job) end
end

function Player:SetPlayerData(key, val)
  if not key or type(key) ~= 'string' then return end
  self.PlayerData[key] = val
  self:UpdateClient(key, val)
end

function Player:SetMetaData(meta, val)
  if not meta or type(meta) ~= 'string' then return end
  if meta == 'hunger' or meta == 'thirst' then val = math.min(100, math.max(0, val)) end
  self.PlayerData.metadata[meta] = val
  self:UpdateClient('metadata', self.PlayerData.metadata)
end

function Player:GetMetaData(meta)
  if not meta or type(meta) ~= 'string' then return end
  return self.PlayerData.metadata[meta]
end

function Player:AddRep(rep, amount)
  self.PlayerData.metadata.rep[rep] = (self.PlayerData.metadata.rep[rep] or 0) + (tonumber(amount) or 0)
  self:UpdateClient('metadata', self.PlayerData.metadata)
end

function Player:RemoveRep(rep, amount)
  self.PlayerData.metadata.rep[rep] = math.max(0, (self.PlayerData.metadata.rep[rep] or 0) - (tonumber(amount) or 0))
  self:UpdateClient('metadata', self.PlayerData.metadata)
end

function Player:GetRep(rep) return self.PlayerData.metadata.rep[rep] or 0 end

local function changeMoney(self, moneytype, amount, how, reason)
  moneytype = moneytype:lower()
  amount = tonumber(amount)
  if not amount or amount < 0 or not self.PlayerData.money[moneytype] then return false end
  if how == 'add' then self.PlayerData.money[moneytype] = self.PlayerData.money[moneytype] + amount
  elseif how == 'remove' then self.PlayerData.money[moneytype] = self.PlayerData.money[moneytype] - amount
  else self.PlayerData.money[moneytype] = amount end
  if not self.Offline then
    self:UpdateClient('money', self.PlayerData.money)
    TriggerEvent('QBCore:Server:OnMoneyChange', self.PlayerData.source, moneytype, amount, how, reason or 'unknown')
  end
  return true
end

function Player:AddMoney(t, a, r) return changeMoney(self, t, a, 'add', r) end
function Player:RemoveMoney(t, a, r) return changeMoney(self, t, a, 'remove', r) end
function Player:SetMoney(t, a, r) return changeMoney(self, t, a, 'set', r) end
function Player:GetMoney(t) if not t then return false end return self.PlayerData.money[t:lower()] end

function Player:Save()
  if not self.Offline then QBCore.Player.Save(self.PlayerData.source) end
end

function Player:Logout()
  if self.Offline then return end
  QBCore.Player.Logout(self.PlayerData.source)
end

function Player:AddMethod(methodName, handler)
  if type(methodName) ~= 'string' then return false end
  self[methodName] = handler
  self.Functions[methodName] = handler
  return true
end

function Player:AddField(fieldName, data)
  if type(fieldName) ~= 'string' then return false end
  self[fieldName] = data
  return true
end

function QBCore.Player.Save(source)
  if QBCore.Players[source] and GetResourceState('qb-inventory') ~= 'missing' then
    exports['qb-inventory']:SaveInventory(source)
  end
end

function QBCore.Player.Logout(source)
  local player = QBCore.Players[source]
  if not player then return end
  player.Functions.Save()
  TriggerClientEvent('QBCore:Client:OnPlayerUnload', source)
  TriggerEvent('QBCore:Server:OnPlayerUnload', source)
  QBCore.PlayersByCitizenId[player.PlayerData.citizenid] = nil
  QBCore.Players[source] = nil
end

local function applyDefaults(playerData, defaults)
  for key, value in pairs(defaults) do
    if type(value) == 'function' then
      playerData[key] = playerData[key] or value()
    elseif type(value) == 'table' then
      playerData[key] = playerData[key] or {}
      applyDefaults(playerData[key], value)
    else
      playerData[key] = playerData[key] or value
    end
  end
end

-- config.lua QBConfig.Player.PlayerDefaults (the fields this stand-in keeps).
local PlayerDefaults = {
  citizenid = function() return ('SBX%05d'):format(math.random(0, 99999)) end,
  cid = 1,
  money = { cash = 500, bank = 5000, crypto = 0 },
  optin = true,
  charinfo = {
    firstname = 'Firstname', lastname = 'Lastname', birthdate = '00-00-0000', gender = 0,
    nationality = 'USA', phone = function() return QBCore.Functions.CreatePhoneNumber() end,
    account = function() return 'US0' .. math.random(1, 9) .. 'QBCore' .. math.random(1111, 9999) end,
  },
  job = { name = 'unemployed', label = 'Civilian', payment = 10, type = 'none', onduty = false,
    isboss = false, grade = { name = 'Freelancer', level = 0 } },
  gang = { name = 'none', label = 'No Gang Affiliation', isboss = false, grade = { name = 'none', level = 0 } },
  metadata = {
    hunger = 100, thirst = 100, stress = 0, isdead = false, inlaststand = false, armor = 0,
    ishandcuffed = false, tracker = false, injail = 0, jailitems = {}, status = {}, phone = {},
    rep = {}, callsign = 'NO CALLSIGN', bloodtype = 'O+', criminalrecord = { hasRecord = false },
    licences = { driver = true, business = false, weapon = false },
  },
  position = vector3(-1035.71, -2731.87, 12.86),
  items = {},
}

function QBCore.Player.CreatePlayer(PlayerData, Offline)
  local player = Player.new(PlayerData, Offline)
  if Offline then return player end
  QBCore.Players[PlayerData.source] = player
  QBCore.PlayersByCitizenId[PlayerData.citizenid] = player
  QBCore.Player.Save(PlayerData.source)
  TriggerEvent('QBCore:Server:PlayerLoaded', player)
  player:UpdateClient()
  return player
end

function QBCore.Player.CheckPlayerData(source, PlayerData)
  PlayerData = PlayerData or {}
  local Offline = not source
  if source then
    PlayerData.source = source
    PlayerData.license = PlayerData.license or QBCore.Functions.GetIdentifier(source, 'license')
    PlayerData.name = GetPlayerName(source)
  end
  local validatedJob = false
  if PlayerData.job and PlayerData.job.name ~= nil and PlayerData.job.grade and PlayerData.job.grade.level ~= nil then
    local jobInfo = QBCore.Shared.Jobs[PlayerData.job.name]
    local gradeInfo = jobInfo and jobInfo.grades[tostring(PlayerData.job.grade.level)]
    if gradeInfo then
      PlayerData.job.label = jobInfo.label
      PlayerData.job.grade.name = gradeInfo.name
      PlayerData.job.grade.payment = gradeInfo.payment
      PlayerData.job.grade.isboss = gradeInfo.isboss or false
      PlayerData.job.isboss = gradeInfo.isboss or false
      validatedJob = true
    end
  end
  if not validatedJob then PlayerData.job = nil end
  applyDefaults(PlayerData, PlayerDefaults)
  if PlayerData.job and QBCore.Shared.ForceJobDefaultDutyAtLogin then
    local jobInfo = QBCore.Shared.Jobs[PlayerData.job.name]
    if jobInfo then PlayerData.job.onduty = jobInfo.defaultDuty end
  end
  if not Offline and GetResourceState('qb-inventory') ~= 'missing' then
    PlayerData.items = exports['qb-inventory']:LoadInventory(PlayerData.source, PlayerData.citizenid)
  end
  return QBCore.Player.CreatePlayer(PlayerData, Offline)
end

local function isCallable(value)
  if type(value) == 'function' then return true end
  if type(value) == 'table' and type(rawget(value, '__cfx_functionReference')) == 'string' then return true end
  local mt = getmetatable(value)
  return mt and type(mt.__call) == 'function'
end

local function buildInterface(internalPlayer)
  if not internalPlayer then return nil end
  local iface, methods = {}, {}
  for methodName, handler in pairs(internalPlayer.Functions) do
    if isCallable(handler) then
      iface[methodName] = handler
      methods[methodName] = handler
    end
  end
  for fieldName, data in pairs(internalPlayer) do
    if fieldName ~= 'PlayerData' and fieldName ~= 'Functions' and fieldName ~= 'Offline' and not isCallable(data) then
      iface[fieldName] = data
    end
  end
  iface.PlayerData = internalPlayer.PlayerData
  iface.Functions = methods
  return iface
end

-- Re-registers GetPlayer (the loop above exported QBCore.Functions.GetPlayer): the last wins.
realExport('GetPlayer', function(source) return buildInterface(QBCore.Players[tonumber(source)]) end)
realExport('GetPlayerByCitizenId', function(citizenid) return buildInterface(QBCore.PlayersByCitizenId[citizenid]) end)

-- ---- server/events.lua ----
AddEventHandler('playerDropped', function()
  local src = source
  local player = QBCore.Players[src]
  if not player then return end
  player.Functions.Save()
  TriggerEvent('QBCore:Server:PlayerDropped', src)
  TriggerEvent('QBCore:Server:OnPlayerUnload', src)
  QBCore.PlayersByCitizenId[player.PlayerData.citizenid] = nil
  QBCore.Players[src] = nil
end)

RegisterNetEvent('QBCore:ToggleDuty', function()
  local src = source
  local player = QBCore.Functions.GetPlayer(src)
  if not player then return end
  player.Functions.SetJobDuty(not player.PlayerData.job.onduty)
  TriggerEvent('QBCore:Server:SetDuty', src, player.PlayerData.job.onduty)
  TriggerClientEvent('QBCore:Client:SetDuty', src, player.PlayerData.job.onduty)
end)

AddEventHandler('QBCore:Server:OnPlayerUpdated', function(src, key, val)
  if key == 'job' then
    TriggerEvent('QBCore:Server:OnJobUpdate', src, val)
  elseif key == 'gang' then
    TriggerEvent('QBCore:Server:OnGangUpdate', src, val)
  elseif key == 'all' then
    TriggerEvent('QBCore:Server:OnJobUpdate', src, val.job)
    TriggerEvent('QBCore:Server:OnGangUpdate', src, val.gang)
  end
end)

-- ---- sandbox_: driven by tests only ----
local function defineJob(spec)
  local job = QBCore.Shared.Jobs[spec.name] or { label = spec.name, grades = { ['0'] = { name = 'Grade 0', payment = 10 } } }
  if spec.type then job.type = spec.type end
  job.defaultDuty = spec.onDuty ~= false
  for g = 0, math.tointeger(spec.grade or 0) or 0 do
    job.grades[tostring(g)] = job.grades[tostring(g)] or { name = 'Grade ' .. g, payment = 10 }
  end
  QBCore.Shared.Jobs[spec.name] = job
end

exports('sandbox_login', function(src, spec)
  local data = { charinfo = { firstname = spec.firstName, lastname = spec.lastName, phone = spec.phone } }
  if spec.job then
    defineJob(spec.job)
    -- As SetJob saved it: the type comes from the job, the grade level is validated at login.
    data.job = { name = spec.job.name, type = QBCore.Shared.Jobs[spec.job.name].type or 'none',
      grade = { level = math.tointeger(spec.job.grade or 0) or 0 } }
  end
  QBCore.Player.CheckPlayerData(src, data)
  return true
end)
exports('sandbox_setJob', function(src, spec)
  defineJob(spec)
  local player = QBCore.Players[src]
  return player and player.Functions.SetJob(spec.name, tostring(math.tointeger(spec.grade or 0) or 0)) or false
end)
exports('sandbox_logout', function(src) QBCore.Player.Logout(src) end)
exports('sandbox_break', function() broken = true end)
`;

/** qb-ambulancejob: the client reports death and last stand through net events. */
export const QB_AMBULANCEJOB = `
RegisterNetEvent('hospital:server:SetDeathStatus', function(isDead)
  local Player = exports['qb-core']:GetPlayer(source)
  if Player then Player.SetMetaData('isdead', isDead) end
end)

RegisterNetEvent('hospital:server:SetLaststandStatus', function(bool)
  local Player = exports['qb-core']:GetPlayer(source)
  if Player then Player.SetMetaData('inlaststand', bool) end
end)
`;

/** qb-policejob: the client reports its own handcuffs through a net event. */
export const QB_POLICEJOB = `
RegisterNetEvent('police:server:SetHandcuffStatus', function(isHandcuffed)
  local Player = exports['qb-core']:GetPlayer(source)
  if Player then Player.Functions.SetMetaData('ishandcuffed', isHandcuffed) end
end)
`;

/** qb-inventory: the items live in the core's PlayerData.items, slot by slot. */
export const QB_INVENTORY = `
local saved = {}

exports('LoadInventory', function(source, citizenid)
  return saved[citizenid] or {}
end)

exports('SaveInventory', function(source, offline)
  local player = exports['qb-core']:GetPlayer(source)
  if player then saved[player.PlayerData.citizenid] = player.PlayerData.items end
end)

exports('GetItemCount', function(source, items)
  local Player = exports['qb-core']:GetPlayer(source)
  if not Player then return end
  local isTable = type(items) == 'table'
  local wanted = {}
  if isTable then for _, item in pairs(items) do wanted[item] = true end end
  local count = 0
  for _, item in pairs(Player.PlayerData.items) do
    if (isTable and wanted[item.name]) or (not isTable and items == item.name) then
      count = count + item.amount
    end
  end
  return count
end)

exports('HasItem', function(source, item, amount)
  local Player = exports['qb-core']:GetPlayer(source)
  if not Player then return false end
  for _, itemData in pairs(Player.PlayerData.items) do
    if itemData.name == item and (not amount or itemData.amount >= amount) then return true end
  end
  return false
end)

exports('AddItem', function(identifier, item, amount)
  local Player = exports['qb-core']:GetPlayer(identifier)
  if not Player then return false end
  local items = Player.PlayerData.items
  for _, itemData in pairs(items) do
    if itemData.name == item then
      itemData.amount = itemData.amount + amount
      Player.Functions.SetPlayerData('items', items)
      return true
    end
  end
  local slot = #items + 1
  items[slot] = { name = item, amount = amount, info = {}, label = item, type = 'item', slot = slot }
  Player.Functions.SetPlayerData('items', items)
  return true
end)
`;

async function fromClient(fx: FxServer, player: Player, event: string, ...args: unknown[]) {
  player.emitNet(event, ...args);
  await fx.settle();
}

export const qbStandIn: FrameworkStandIn = {
  name: 'qb',
  resources: ['qb-core', 'qb-ambulancejob', 'qb-policejob'],
  async start(fx) {
    await startLua(fx, 'qb-core', QB_CORE);
    await startLua(fx, 'qb-ambulancejob', QB_AMBULANCEJOB);
    await startLua(fx, 'qb-policejob', QB_POLICEJOB);
  },
  async login(fx, player, character) {
    await exportOf(fx, 'qb-core', 'sandbox_login')(player.id, character);
  },
  async logout(fx, player) {
    await exportOf(fx, 'qb-core', 'sandbox_logout')(player.id);
  },
  async setJob(fx, player, job) {
    // The job's defaultDuty is the spec's onDuty, so SetJob itself sets the duty.
    await exportOf(fx, 'qb-core', 'sandbox_setJob')(player.id, job);
  },
  async setDuty(fx, player, onDuty) {
    // The duty point's client sends QBCore:ToggleDuty; only a change toggles.
    if (coreDuty(fx, 'qb-core', player) !== onDuty)
      await fromClient(fx, player, 'QBCore:ToggleDuty');
  },
  async setDead(fx, player, dead) {
    await fromClient(fx, player, 'hospital:server:SetDeathStatus', dead);
  },
  async setLastStand(fx, player, down) {
    await fromClient(fx, player, 'hospital:server:SetLaststandStatus', down);
  },
  async setCuffed(fx, player, cuffed) {
    await fromClient(fx, player, 'police:server:SetHandcuffStatus', cuffed);
  },
  async breakExports(fx) {
    await exportOf(fx, 'qb-core', 'sandbox_break')();
  },
};

/** qb-inventory; start it before the characters log in (qb-core loads their items from it). */
export const qbInventoryStandIn: InventoryStandIn = {
  resource: 'qb-inventory',
  async start(fx) {
    await startLua(fx, 'qb-inventory', QB_INVENTORY);
  },
  async give(fx, player, item, count) {
    await exportOf(fx, 'qb-inventory', 'AddItem')(player.id, item, count);
  },
};
