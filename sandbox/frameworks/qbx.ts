/**
 * Qbox stand-in: qbx_core, qbx_medical and qbx_police as Lua 5.4 server scripts, written
 * after (never copied from):
 * - github.com/Qbox-project/qbx_core 959b77b6d59c5656694b071cd6ec8218a2815279:
 *   fxmanifest.lua (provide 'qb-core'), server/functions.lua (GetPlayer, GetPlayersData),
 *   server/player.lua (CheckPlayerData, CreatePlayer, SetJob, SetPlayerPrimaryJob,
 *   AddPlayerToJob, RemovePlayerFromJob, SetJobDuty, SetPlayerData, UpdatePlayerData,
 *   SetMetadata, GetMetadata, SetCharInfo, Logout), server/events.lua (QBCore:ToggleDuty),
 *   shared/main.lua (ForceJobDefaultDutyAtLogin).
 * - github.com/Qbox-project/qbx_medical 30ca85a7afbdffee5e3b11940e7e0e82647fd8e1:
 *   server/main.lua (the death state bag handler), shared/main.lua, config/shared.lua.
 * - github.com/Qbox-project/qbx_police 725d770725626ebd20dbf8a5230edd9428f9433e:
 *   server/main.lua (police:server:SetHandcuffStatus).
 *
 * Left out: the database, ox_lib, gangs, money, buckets, qbx_core's per-player
 * `qbx_core:server:onJobUpdate` handlers, and of the qb-core bridge all but GetCoreObject
 * (answered through the export event as bridge/qb/shared/export-function.lua does, holding
 * only Players and Functions.GetPlayer). qbx_medical's client writing the death state bag
 * and the clients' net events are played by the driver methods below. Test-only exports start
 * with `sandbox_`; everything else answers as the real export does.
 */
import { coreDuty, exportOf, startLua } from './drive';
import type { CharacterSpec, FrameworkStandIn, JobSpec } from './types';

export const QBX_CORE = `
local broken = false
local Players = {}
local function realExport(name, fn)
  exports(name, function(...)
    if broken then error(('qbx_core export %s is broken (sandbox)'):format(name)) end
    return fn(...)
  end)
end

-- shared/jobs.lua: integer grade keys; type 'leo' / 'ems'.
local Jobs = {
  unemployed = { label = 'Civilian', defaultDuty = true, grades = { [0] = { name = 'Freelancer', payment = 10 } } },
  police = { label = 'LSPD', type = 'leo', defaultDuty = true, grades = {
    [0] = { name = 'Recruit', payment = 50 }, [1] = { name = 'Officer', payment = 75 },
    [2] = { name = 'Sergeant', payment = 100 }, [3] = { name = 'Lieutenant', payment = 125 },
    [4] = { name = 'Chief', isboss = true, payment = 150 } } },
  ambulance = { label = 'EMS', type = 'ems', defaultDuty = true, grades = {
    [0] = { name = 'Recruit', payment = 50 }, [1] = { name = 'Paramedic', payment = 75 },
    [2] = { name = 'Doctor', payment = 100 } } },
}
local ForceJobDefaultDutyAtLogin = true

local function GetJob(name) return name and Jobs[name] or nil end

local function state(src) return Player(src).state end

local function generate(kind)
  if kind == 'PhoneNumber' then return math.random(100, 999) .. math.random(1000000, 9999999) end
  if kind == 'citizenid' then return ('SBX%05d'):format(math.random(0, 99999)) end
  return kind .. math.random(100000, 999999)
end

function GetSource(identifier)
  for src in pairs(Players) do
    for _, id in pairs(GetPlayerIdentifiers(src)) do
      if identifier == id then return src end
    end
  end
  return 0
end

function GetPlayer(source)
  if tonumber(source) ~= nil then return Players[tonumber(source)] end
  return Players[GetSource(source)]
end

local function toPlayerJob(jobName, job, grade)
  return {
    name = jobName, label = job.label,
    isboss = job.grades[grade].isboss or false, bankAuth = job.grades[grade].bankAuth or false,
    onduty = job.defaultDuty or false, payment = job.grades[grade].payment or 0,
    type = job.type, grade = { name = job.grades[grade].name, level = grade },
  }
end

function UpdatePlayerData(identifier)
  local player = GetPlayer(identifier)
  if not player or player.Offline then return end
  TriggerEvent('QBCore:Player:SetPlayerData', player.PlayerData)
  TriggerClientEvent('QBCore:Player:SetPlayerData', player.PlayerData.source, player.PlayerData)
end

function SetPlayerData(identifier, key, value)
  if type(key) ~= 'string' then return end
  local player = GetPlayer(identifier)
  if not player then return end
  player.PlayerData[key] = value
  UpdatePlayerData(identifier)
end

function SetPlayerPrimaryJob(source, jobName)
  local player = GetPlayer(source)
  if not player then return false end
  local grade = jobName == 'unemployed' and 0 or player.PlayerData.jobs[jobName]
  if not grade then return false end
  local job = GetJob(jobName)
  if not job then return false end
  player.PlayerData.job = toPlayerJob(jobName, job, grade)
  UpdatePlayerData(player.PlayerData.source)
  TriggerEvent('QBCore:Server:OnJobUpdate', player.PlayerData.source, player.PlayerData.job)
  TriggerClientEvent('QBCore:Client:OnJobUpdate', player.PlayerData.source, player.PlayerData.job)
  return true
end

local function RemovePlayerFromJob(player, jobName)
  if jobName == 'unemployed' or not player.PlayerData.jobs[jobName] then return true end
  player.PlayerData.jobs[jobName] = nil
  if player.PlayerData.job.name == jobName then
    player.PlayerData.job = toPlayerJob('unemployed', Jobs.unemployed, 0)
  end
  SetPlayerData(player.PlayerData.source, 'jobs', player.PlayerData.jobs)
  TriggerEvent('qbx_core:server:onGroupUpdate', player.PlayerData.source, jobName)
  return true
end

local function AddPlayerToJob(player, jobName, grade)
  if jobName == 'unemployed' then return false end
  if player.PlayerData.jobs[jobName] == grade then return true end
  player.PlayerData.jobs[jobName] = grade
  SetPlayerData(player.PlayerData.source, 'jobs', player.PlayerData.jobs)
  TriggerEvent('qbx_core:server:onGroupUpdate', player.PlayerData.source, jobName, grade)
  return true
end

function SetJob(identifier, jobName, grade)
  jobName = jobName:lower()
  grade = tonumber(grade) or 0
  local job = GetJob(jobName)
  if not job or not job.grades[grade] then return false end
  local player = GetPlayer(identifier)
  if not player then return false end
  if player.PlayerData.job.name ~= 'unemployed' then
    RemovePlayerFromJob(player, player.PlayerData.job.name)
  end
  if jobName ~= 'unemployed' then AddPlayerToJob(player, jobName, grade) end
  return SetPlayerPrimaryJob(player.PlayerData.source, jobName)
end

function SetJobDuty(identifier, onDuty)
  local player = GetPlayer(identifier)
  if not player then return end
  player.PlayerData.job.onduty = not not onDuty
  if player.Offline then return end
  TriggerEvent('QBCore:Server:SetDuty', player.PlayerData.source, player.PlayerData.job.onduty)
  TriggerClientEvent('QBCore:Client:SetDuty', player.PlayerData.source, player.PlayerData.job.onduty)
  UpdatePlayerData(identifier)
end

function SetMetadata(identifier, metadata, value)
  if type(metadata) ~= 'string' then return end
  local player = GetPlayer(identifier)
  if not player then return end
  local oldValue = player.PlayerData.metadata[metadata]
  player.PlayerData.metadata[metadata] = value
  UpdatePlayerData(identifier)
  if not player.Offline then
    TriggerClientEvent('qbx_core:client:onSetMetaData', player.PlayerData.source, metadata, oldValue, value)
    TriggerEvent('qbx_core:server:onSetMetaData', metadata, oldValue, value, player.PlayerData.source)
    if metadata == 'isdead' or metadata == 'inlaststand' then
      state(player.PlayerData.source):set('canUseWeapons', not value, true)
    end
  end
end

function GetMetadata(identifier, metadata)
  if type(metadata) ~= 'string' then return end
  local player = GetPlayer(identifier)
  if not player then return end
  return player.PlayerData.metadata[metadata]
end

function SetCharInfo(identifier, key, value)
  if type(key) ~= 'string' then return end
  local player = GetPlayer(identifier)
  if not player then return end
  player.PlayerData.charinfo[key] = value
  UpdatePlayerData(identifier)
end

function Logout(source)
  local player = GetPlayer(source)
  if not player then return end
  TriggerClientEvent('QBCore:Client:OnPlayerUnload', source)
  TriggerEvent('QBCore:Server:OnPlayerUnload', source)
  Wait(200)
  Players[source] = nil
  TriggerClientEvent('qbx_core:client:playerLoggedOut', source)
  TriggerEvent('qbx_core:server:playerLoggedOut', source)
end

local function CreatePlayer(playerData, Offline)
  local self = {}
  self.Functions = {}
  self.PlayerData = playerData
  self.Offline = Offline
  function self.Functions.UpdatePlayerData() UpdatePlayerData(self.PlayerData.source) end
  function self.Functions.SetJob(jobName, grade) return SetJob(self.PlayerData.source, jobName, grade) end
  function self.Functions.SetJobDuty(onDuty) SetJobDuty(self.PlayerData.source, onDuty) end
  function self.Functions.SetPlayerData(key, val) SetPlayerData(self.PlayerData.source, key, val) end
  function self.Functions.SetMetaData(meta, val) SetMetadata(self.PlayerData.source, meta, val) end
  function self.Functions.GetMetaData(meta) return GetMetadata(self.PlayerData.source, meta) end
  function self.Functions.Save() end
  function self.Functions.Logout() Logout(self.PlayerData.source) end
  if not Offline then
    Players[self.PlayerData.source] = self
    UpdatePlayerData(self.PlayerData.source)
    state(self.PlayerData.source):set('loadInventory', true, true)
    TriggerEvent('QBCore:Server:PlayerLoaded', self)
  end
  return self
end

local function CheckPlayerData(source, playerData)
  playerData.source = source
  playerData.license = GetPlayerIdentifierByType(source, 'license2') or GetPlayerIdentifierByType(source, 'license')
  playerData.name = GetPlayerName(source)
  playerData.citizenid = playerData.citizenid or generate('citizenid')
  playerData.cid = 1
  playerData.money = { cash = 500, bank = 5000, crypto = 0 }
  local ci = playerData.charinfo or {}
  playerData.charinfo = ci
  ci.firstname = ci.firstname or 'Firstname'
  ci.lastname = ci.lastname or 'Lastname'
  ci.birthdate = ci.birthdate or '00-00-0000'
  ci.gender = ci.gender or 0
  ci.backstory = 'placeholder backstory'
  ci.nationality = 'USA'
  ci.phone = ci.phone or generate('PhoneNumber')
  ci.account = generate('AccountNumber')
  ci.cid = 1
  playerData.metadata = {
    optin = false, health = 200, hunger = 100, thirst = 100, stress = 0,
    isdead = false, inlaststand = false, armor = 0, ishandcuffed = false, tracker = false,
    injail = 0, jailitems = {}, status = {}, phone = {}, bloodtype = 'O+', callsign = 'NO CALLSIGN',
    fingerprint = generate('FingerId'), walletid = generate('WalletId'),
    licences = { id = true, driver = true, weapon = false },
  }
  local bag = state(source)
  bag:set('hunger', 100, true)
  bag:set('thirst', 100, true)
  bag:set('stress', 0, true)
  local job = GetJob(playerData.job and playerData.job.name) or Jobs.unemployed
  local jobName = GetJob(playerData.job and playerData.job.name) and playerData.job.name or 'unemployed'
  local jobGrade = GetJob(playerData.job and playerData.job.name) and playerData.job.grade.level or 0
  if not job.grades[jobGrade] then jobGrade = 0 end
  playerData.job = {
    name = jobName, label = job.label, payment = job.grades[jobGrade].payment or 0,
    type = job.type, onduty = playerData.job and playerData.job.onduty or false,
    isboss = job.grades[jobGrade].isboss or false, bankAuth = job.grades[jobGrade].bankAuth or false,
    grade = { name = job.grades[jobGrade].name, level = jobGrade },
  }
  if ForceJobDefaultDutyAtLogin and job.defaultDuty ~= nil then playerData.job.onduty = job.defaultDuty end
  playerData.jobs = {}
  if jobName ~= 'unemployed' then playerData.jobs[jobName] = jobGrade end
  playerData.gang = { name = 'none', label = 'No Gang Affiliation', isboss = false, bankAuth = false,
    grade = { name = 'none', level = 0 } }
  playerData.gangs = {}
  playerData.position = vector4(-1035.71, -2731.87, 12.86, 0.0)
  playerData.items = {}
  return CreatePlayer(playerData, false)
end

RegisterNetEvent('QBCore:ToggleDuty', function()
  local src = source
  local player = GetPlayer(src)
  if not player then return end
  player.Functions.SetJobDuty(not player.PlayerData.job.onduty)
end)

AddEventHandler('playerDropped', function()
  local src = source
  if Players[src] then Players[src] = nil end
end)

realExport('GetSource', GetSource)
realExport('GetPlayer', GetPlayer)
realExport('GetPlayersData', function()
  local list = {}
  for _, player in pairs(Players) do list[#list + 1] = player.PlayerData end
  return list
end)
realExport('GetJob', GetJob)
realExport('GetJobs', function() return Jobs end)
realExport('SetJob', SetJob)
realExport('SetJobDuty', SetJobDuty)
realExport('SetPlayerPrimaryJob', SetPlayerPrimaryJob)
realExport('SetPlayerData', SetPlayerData)
realExport('UpdatePlayerData', UpdatePlayerData)
realExport('SetMetadata', SetMetadata)
realExport('GetMetadata', GetMetadata)
realExport('SetCharInfo', SetCharInfo)
realExport('Logout', Logout)

-- The qb-core bridge (bridge/qb/server/main.lua, bridge/qb/shared/export-function.lua)
-- answers exports['qb-core'].X through the export event itself; provide alone does not.
-- Only GetCoreObject, and a small part of the real compat object.
AddEventHandler('__cfx_export_qb-core_GetCoreObject', function(setCB)
  setCB(function()
    if broken then error('qb-core export GetCoreObject is broken (sandbox)') end
    return { Players = Players, Functions = { GetPlayer = GetPlayer } }
  end)
end)

-- ---- sandbox_: driven by tests only ----
local function defineJob(spec)
  local job = Jobs[spec.name] or { label = spec.name, grades = { [0] = { name = 'Grade 0', payment = 10 } } }
  if spec.type then job.type = spec.type end
  job.defaultDuty = spec.onDuty ~= false
  for g = 0, math.tointeger(spec.grade or 0) or 0 do
    job.grades[g] = job.grades[g] or { name = 'Grade ' .. g, payment = 10 }
  end
  Jobs[spec.name] = job
end

exports('sandbox_login', function(src, spec)
  local playerData = { charinfo = { firstname = spec.firstName, lastname = spec.lastName, phone = spec.phone } }
  if spec.job then
    defineJob(spec.job)
    playerData.job = { name = spec.job.name, grade = { level = math.tointeger(spec.job.grade or 0) or 0 } }
  end
  CheckPlayerData(src, playerData)
  return true
end)
exports('sandbox_setJob', function(src, spec)
  defineJob(spec)
  return SetJob(src, spec.name, spec.grade or 0)
end)
exports('sandbox_break', function() broken = true end)
`;

/** qbx_medical: the client writes the death state bag; the server's change handler follows. */
export const QBX_MEDICAL = `
local LAST_STAND, DEAD = 2, 3
local DEATH_STATE_STATE_BAG = 'qbx_medical:deathState'
-- The emulator's Lua prelude may lack this native (its JS side has it): the same by name.
local GetPlayerFromStateBagName = GetPlayerFromStateBagName or function(bagName)
  return tonumber(tostring(bagName):match('^player:(%d+)$')) or 0
end

AddStateBagChangeHandler(DEATH_STATE_STATE_BAG, nil, function(bagName, _, value)
  local playerId = GetPlayerFromStateBagName(bagName)
  local player = exports.qbx_core:GetPlayer(playerId)
  if player then
    player.Functions.SetMetaData('isdead', value == DEAD)
    player.Functions.SetMetaData('inlaststand', value == LAST_STAND)
    Player(playerId).state:set('isDead', value == DEAD or value == LAST_STAND, true)
  end
end)
`;

/** qbx_police: the client reports its own handcuffs through a net event. */
export const QBX_POLICE = `
RegisterNetEvent('police:server:SetHandcuffStatus', function(isHandcuffed)
  local player = exports.qbx_core:GetPlayer(source)
  if not player then return end
  player.Functions.SetMetaData('ishandcuffed', isHandcuffed)
  Player(source).state.invBusy = isHandcuffed
end)
`;

export const qbxStandIn: FrameworkStandIn = {
  name: 'qbx',
  resources: ['qbx_core', 'qbx_medical', 'qbx_police'],
  async start(fx) {
    // fxmanifest.lua: provide 'qb-core'.
    fx.registerResource('qbx_core', { metadata: { provide: ['qb-core'] } });
    await startLua(fx, 'qbx_core', QBX_CORE);
    await startLua(fx, 'qbx_medical', QBX_MEDICAL);
    await startLua(fx, 'qbx_police', QBX_POLICE);
  },
  async login(fx, player, character: CharacterSpec) {
    await exportOf(fx, 'qbx_core', 'sandbox_login')(player.id, character);
  },
  async logout(fx, player) {
    await exportOf(fx, 'qbx_core', 'Logout')(player.id);
  },
  async setJob(fx, player, job: JobSpec) {
    await exportOf(fx, 'qbx_core', 'sandbox_setJob')(player.id, job);
    const onDuty = job.onDuty ?? true;
    if (coreDuty(fx, 'qbx_core', player) !== onDuty) await qbxStandIn.setDuty(fx, player, onDuty);
  },
  async setDuty(fx, player, onDuty) {
    // The duty point's client sends QBCore:ToggleDuty; only a change toggles.
    if (coreDuty(fx, 'qbx_core', player) === onDuty) return;
    player.emitNet('QBCore:ToggleDuty');
    await fx.settle();
  },
  async setDead(fx, player, dead) {
    // As qbx_medical's client does: 3 dead, 1 alive (config/shared.lua deathState).
    fx.setPlayerState(player.id, 'qbx_medical:deathState', dead ? 3 : 1);
    await fx.settle();
  },
  async setLastStand(fx, player, down) {
    fx.setPlayerState(player.id, 'qbx_medical:deathState', down ? 2 : 1);
    await fx.settle();
  },
  async setCuffed(fx, player, cuffed) {
    player.emitNet('police:server:SetHandcuffStatus', cuffed);
    await fx.settle();
  },
  async breakExports(fx) {
    await exportOf(fx, 'qbx_core', 'sandbox_break')();
  },
};
