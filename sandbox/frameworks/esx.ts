/**
 * ESX Legacy stand-in: `es_extended` and the part of `esx_ambulancejob` that marks the dead,
 * as Lua server scripts.
 *
 * Follows esx-framework/esx_core c0260923bbc4e53b027906ff7eec5b3af9321571 (es_extended 1.13.5):
 *   [core]/es_extended/server/classes/player.lua   (CreateExtendedPlayer, RunStaticPlayerMethod)
 *   [core]/es_extended/server/main.lua             (loadESXPlayer, onPlayerDropped, the
 *                                                   esx:onPlayerJoined / esx:playerLogout handlers)
 *   [core]/es_extended/server/functions.lua        (GetPlayerFromId, DoesJobExist, IsPlayerLoaded)
 *   [core]/es_extended/shared/main.lua             (getSharedObject)
 *   [core]/es_extended/shared/config/main.lua      (DefaultJobDuty = true)
 * and esx-framework/esx_ambulancejob 5ec088ee4377bcb7330e33f8474fc5a25cb11d98 server/main.lua
 * (isDeadState on esx:onPlayerDeath, esx:onPlayerSpawn and esx:playerDropped).
 *
 * Left out: the database (a table stands in), accounts, loadouts, weapons, commands,
 * principals, client events' effects. Multichar is on, so a login is the
 * `esx:onPlayerJoined(src, char)` event esx_multicharacter raises. Nothing on the server
 * tracks handcuffs (esx_policejob b3b729fe only relays them to the client): setCuffed is a
 * no-op. ESX has no last stand: setLastStand is setDead.
 *
 * Driven through exports prefixed `sandbox_`, which call the same code paths the real
 * resources run. `createEsxStandIn({ staticMethods: false })` models an ESX before 1.13.0, without
 * RunStaticPlayerMethod.
 */
import type { FxServer, Player } from '../emulator';
import { startLua } from './drive';
import type { CharacterSpec, FrameworkStandIn, JobSpec } from './types';

const CORE = 'es_extended';
const MEDICAL = 'esx_ambulancejob';

const core = (staticMethods: boolean) => `
Config = { Multichar = true, DefaultJobDuty = true }
ESX = { Players = {}, Jobs = {}, Items = {} }
Core = { playersByIdentifier = {}, PlayerFunctionOverrides = {} }
local broken = false
local users = {} -- identifier -> row, in place of the users table

local function grades(label)
  return { ['0'] = { grade = 0, name = 'recruit', label = label, salary = 100, skin_male = nil, skin_female = nil } }
end
ESX.Jobs.unemployed = { id = 1, name = 'unemployed', label = 'Unemployed', type = 'civ', grades = grades('Unemployed') }
ESX.Jobs.police = { id = 2, name = 'police', label = 'LSPD', type = 'leo', grades = grades('Recruit') }
ESX.Jobs.ambulance = { id = 3, name = 'ambulance', label = 'EMS', type = 'ems', grades = grades('Jr. EMT') }
ESX.Items.phone = { label = 'Phone', weight = 1 }

function ESX.IsFunctionReference(val)
  local t = type(val)
  if t == 'function' then return true end
  if t == 'table' then
    local mt = getmetatable(val)
    return mt ~= nil and type(mt.__call) == 'function'
  end
  return false
end

function ESX.GetPlayerFromId(source)
  return ESX.Players[tonumber(source)]
end

function ESX.IsPlayerLoaded(source)
  return ESX.Players[source] ~= nil
end

function ESX.DoesJobExist(job, grade)
  return (ESX.Jobs[job] and ESX.Jobs[job].grades[tostring(grade)] ~= nil) or false
end

function ESX.GetIdentifier(playerId)
  for _, id in ipairs(GetPlayerIdentifiers(playerId)) do
    local license = id:match('^license:(.+)$')
    if license then return license end
  end
  return 'sv_lan' .. tostring(playerId)
end

function CreateExtendedPlayer(playerId, identifier, group, inventory, job, name, metadata)
  local self = {}
  self.group = group
  self.identifier = identifier
  self.inventory = inventory
  self.job = job
  self.name = name
  self.playerId = playerId
  self.source = playerId
  self.variables = {}
  self.metadata = metadata

  if type(self.metadata.jobDuty) ~= 'boolean' then
    self.metadata.jobDuty = self.job.name ~= 'unemployed' and Config.DefaultJobDuty or false
  end
  job.onDuty = self.metadata.jobDuty

  local stateBag = Player(self.source).state
  stateBag:set('identifier', self.identifier, false)
  stateBag:set('job', self.job, true)
  stateBag:set('group', self.group, true)
  stateBag:set('name', self.name, true)

  function self.triggerEvent(eventName, ...)
    TriggerClientEvent(eventName, self.source, ...)
  end
  function self.getIdentifier() return self.identifier end
  function self.getSource() return self.source end
  self.getPlayerId = self.getSource
  function self.getGroup() return self.group end
  function self.set(k, v)
    self.variables[k] = v
    self.triggerEvent('esx:updatePlayerData', 'variables', self.variables)
  end
  function self.get(k) return self.variables[k] end
  function self.getName() return self.name end
  function self.setName(newName)
    self.name = newName
    Player(self.source).state:set('name', self.name, true)
  end
  function self.getJob() return self.job end
  function self.getMeta(index)
    if not index then return self.metadata end
    return self.metadata[index]
  end
  function self.getInventory(minimal)
    if minimal then
      local out = {}
      for _, v in ipairs(self.inventory) do
        if v.count > 0 then out[v.name] = v.count end
      end
      return out
    end
    return self.inventory
  end
  function self.getInventoryItem(itemName)
    for _, v in ipairs(self.inventory) do
      if v.name == itemName then return v end
    end
    return nil
  end
  function self.hasItem(item)
    for _, v in ipairs(self.inventory) do
      if v.name == item and v.count >= 1 then return v, v.count end
    end
    return false
  end
  function self.addInventoryItem(itemName, count)
    local item = self.getInventoryItem(itemName)
    if item then
      item.count = item.count + count
      TriggerEvent('esx:onAddInventoryItem', self.source, item.name, item.count)
      self.triggerEvent('esx:addInventoryItem', item.name, item.count)
    end
  end
  function self.setJob(newJob, grade, onDuty)
    grade = tostring(grade)
    local lastJob = self.job
    if not ESX.DoesJobExist(newJob, grade) then
      return print(('[ESX] [WARNING] Ignoring invalid .setJob() usage for ID: %s, Job: %s'):format(self.source, newJob))
    end
    if newJob == 'unemployed' then onDuty = false end
    if type(onDuty) ~= 'boolean' then onDuty = Config.DefaultJobDuty end
    local jobObject, gradeObject = ESX.Jobs[newJob], ESX.Jobs[newJob].grades[grade]
    self.job = {
      id = jobObject.id,
      name = jobObject.name,
      label = jobObject.label,
      type = jobObject.type,
      onDuty = onDuty,
      grade = tonumber(grade) or 0,
      grade_name = gradeObject.name,
      grade_label = gradeObject.label,
      grade_salary = gradeObject.salary,
      skin_male = {},
      skin_female = {},
    }
    self.metadata.jobDuty = onDuty
    TriggerEvent('esx:setJob', self.source, self.job, lastJob)
    self.triggerEvent('esx:setJob', self.job, lastJob)
    Player(self.source).state:set('job', self.job, true)
  end
  return self
end

local function loadESXPlayer(identifier, playerId, isNew)
  local row = users[identifier]
  local job, grade = row.job, tostring(row.job_grade)
  if not ESX.DoesJobExist(job, grade) then job, grade = 'unemployed', '0' end
  local jobObject, gradeObject = ESX.Jobs[job], ESX.Jobs[job].grades[grade]
  local userJob = {
    id = jobObject.id,
    name = jobObject.name,
    label = jobObject.label,
    type = jobObject.type,
    grade = tonumber(grade),
    grade_name = gradeObject.name,
    grade_label = gradeObject.label,
    grade_salary = gradeObject.salary,
    skin_male = {},
    skin_female = {},
  }
  local inventory = {}
  for name, item in pairs(ESX.Items) do
    inventory[#inventory + 1] = { name = name, count = row.inventory[name] or 0, label = item.label,
      weight = item.weight, usable = false, rare = false, canRemove = true }
  end
  table.sort(inventory, function(a, b) return a.label < b.label end)

  local xPlayer = CreateExtendedPlayer(playerId, identifier, 'user', inventory, userJob,
    GetPlayerName(playerId), row.metadata)
  ESX.Players[playerId] = xPlayer
  Core.playersByIdentifier[identifier] = xPlayer

  if row.firstname and row.firstname ~= '' then
    xPlayer.set('firstName', row.firstname)
    xPlayer.set('lastName', row.lastname)
    xPlayer.setName(('%s %s'):format(row.firstname, row.lastname))
  end

  TriggerEvent('esx:playerLoaded', playerId, xPlayer, isNew)
  xPlayer.triggerEvent('esx:playerLoaded', { identifier = identifier }, isNew)
end

local function onPlayerDropped(playerId, reason, cb)
  local xPlayer = ESX.GetPlayerFromId(playerId)
  if not xPlayer then
    if cb then cb() end
    return
  end
  TriggerEvent('esx:playerDropped', playerId, reason)
  ESX.Players[playerId] = nil
  Core.playersByIdentifier[xPlayer.identifier] = nil
  if cb then cb() end
end
AddEventHandler('esx:onPlayerDropped', onPlayerDropped)

AddEventHandler('esx:onPlayerJoined', function(src, char, data)
  if not ESX.Players[src] then
    loadESXPlayer(char .. ':' .. ESX.GetIdentifier(src), src, false)
  end
end)

AddEventHandler('playerDropped', function(reason)
  onPlayerDropped(source, reason)
end)

AddEventHandler('esx:playerLogout', function(playerId, cb)
  onPlayerDropped(playerId, 'esx_player_logout', cb)
  TriggerClientEvent('esx:onPlayerLogout', playerId)
end)

local function real(name, fn)
  exports(name, function(...)
    if broken then error(('es_extended stand-in: %s is broken'):format(name)) end
    return fn(...)
  end)
end

real('getSharedObject', function() return ESX end)

${
  staticMethods
    ? `real('RunStaticPlayerMethod', function(src, method, ...)
  local xPlayer = ESX.Players[src]
  if not xPlayer then return end
  if not ESX.IsFunctionReference(xPlayer[method]) then
    error(('Attempted to call invalid method on playerId %s: %s'):format(src, method))
  end
  return xPlayer[method](...)
end)`
    : '-- ESX before 1.13.0: no RunStaticPlayerMethod'
}

-- ---- sandbox drivers ----------------------------------------------------------------

local function ensureJob(name, grade, jobType)
  local job = ESX.Jobs[name]
  if not job then
    job = { id = 100 + #name, name = name, label = name, type = jobType or 'civ', grades = {} }
    ESX.Jobs[name] = job
  end
  if jobType then job.type = jobType end
  if not job.grades[tostring(grade)] then
    job.grades[tostring(grade)] = { grade = grade, name = 'grade' .. grade, label = 'Grade ' .. grade, salary = 0 }
  end
end

exports('sandbox_login', function(src, spec)
  local job = spec.job or { name = 'unemployed', grade = 0 }
  local grade = job.grade or 0
  ensureJob(job.name, grade, job.type)
  local metadata = {}
  if job.onDuty ~= nil then metadata.jobDuty = job.onDuty end
  users['char1:' .. ESX.GetIdentifier(src)] = { firstname = spec.firstName, lastname = spec.lastName,
    job = job.name, job_grade = grade, inventory = {}, metadata = metadata }
  TriggerEvent('esx:onPlayerJoined', src, 'char1')
end)

exports('sandbox_logout', function(src)
  TriggerEvent('esx:playerLogout', src)
end)

exports('sandbox_setJob', function(src, name, grade, jobType, onDuty)
  ensureJob(name, grade, jobType)
  ESX.Players[src].setJob(name, grade, onDuty)
end)

exports('sandbox_setDuty', function(src, onDuty)
  local xPlayer = ESX.Players[src]
  xPlayer.setJob(xPlayer.job.name, xPlayer.job.grade, onDuty)
end)

exports('sandbox_addItem', function(src, name, count)
  if not ESX.Items[name] then
    ESX.Items[name] = { label = name, weight = 1 }
    for _, xPlayer in pairs(ESX.Players) do
      xPlayer.inventory[#xPlayer.inventory + 1] = { name = name, count = 0, label = name, weight = 1 }
    end
  end
  ESX.Players[src].addInventoryItem(name, count)
end)

exports('sandbox_break', function() broken = true end)
`;

const medical = `
local deadPlayers = {}

local function isDeadState(src, bool)
  if not src or bool == nil then return end
  Player(src).state:set('isDead', bool, true)
end

RegisterNetEvent('esx:onPlayerDeath')
AddEventHandler('esx:onPlayerDeath', function(data)
  local source = source
  deadPlayers[source] = 'dead'
  isDeadState(source, true)
end)

RegisterNetEvent('esx:onPlayerSpawn')
AddEventHandler('esx:onPlayerSpawn', function()
  local source = source
  if deadPlayers[source] then
    deadPlayers[source] = nil
    isDeadState(source, false)
  end
end)

AddEventHandler('esx:playerDropped', function(playerId, reason)
  if deadPlayers[playerId] then
    deadPlayers[playerId] = nil
    isDeadState(playerId, false)
  end
end)
`;

interface Drivers {
  sandbox_login(src: number, spec: Record<string, unknown>): void;
  sandbox_logout(src: number): void;
  sandbox_setJob(
    src: number,
    name: string,
    grade: number,
    type: string | null,
    onDuty: boolean | null,
  ): void;
  sandbox_setDuty(src: number, onDuty: boolean): void;
  sandbox_addItem(src: number, item: string, count: number): void;
  sandbox_break(): void;
}

const drive = (fx: FxServer) => fx.exportsOf<Drivers>(CORE, { from: 'sandbox' });

const jobSpec = (job: JobSpec | undefined) =>
  job && {
    name: job.name,
    grade: job.grade ?? 0,
    type: job.type ?? null,
    onDuty: job.onDuty ?? null,
  };

export interface EsxStandInOptions {
  /** false: an ESX before 1.13.0, without the RunStaticPlayerMethod export. */
  staticMethods?: boolean;
}

export interface EsxStandIn extends FrameworkStandIn {
  /** Puts `count` of `item` in the player's ESX inventory (xPlayer.addInventoryItem). */
  giveItem(fx: FxServer, player: Player, item: string, count: number): Promise<void>;
}

export function createEsxStandIn(opts: EsxStandInOptions = {}): EsxStandIn {
  const source = core(opts.staticMethods ?? true);
  const setDead = async (fx: FxServer, player: Player, dead: boolean) => {
    // The client's death and respawn events, which esx_ambulancejob turns into the state bag.
    player.emitNet(dead ? 'esx:onPlayerDeath' : 'esx:onPlayerSpawn', dead ? {} : undefined);
    await fx.settle();
  };
  return {
    name: 'esx',
    resources: [CORE, MEDICAL],
    async start(fx) {
      await startLua(fx, CORE, source);
      await startLua(fx, MEDICAL, medical);
    },
    async login(fx, player, character: CharacterSpec) {
      drive(fx).sandbox_login(player.id, {
        firstName: character.firstName,
        lastName: character.lastName,
        job: jobSpec(character.job),
      });
    },
    async logout(fx, player) {
      drive(fx).sandbox_logout(player.id);
    },
    async setJob(fx, player, job) {
      drive(fx).sandbox_setJob(
        player.id,
        job.name,
        job.grade ?? 0,
        job.type ?? null,
        job.onDuty ?? null,
      );
    },
    async setDuty(fx, player, onDuty) {
      drive(fx).sandbox_setDuty(player.id, onDuty);
    },
    setDead,
    setLastStand: setDead,
    async setCuffed() {},
    async breakExports(fx) {
      drive(fx).sandbox_break();
    },
    async giveItem(fx, player, item, count) {
      drive(fx).sandbox_addItem(player.id, item, count);
    },
  };
}

export const esxStandIn: EsxStandIn = createEsxStandIn();
/** The same stand-in, by its short name. */
export const esx = esxStandIn;
