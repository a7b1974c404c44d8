/**
 * ND_Core stand-in, as a Lua server script.
 *
 * Follows ND-Framework/ND_Core 0e6caf7996fbf7a1d01f2d8f4eec2f4920f3343c (version 2.3.2):
 *   server/player.lua      (createCharacterTable: fields and closures, setData,
 *                           setMetadata, unload, revive, active, addGroup, removeGroup,
 *                           setJob, getJob; NDCore.newCharacter, NDCore.setActiveCharacter)
 *   server/functions.lua   (getPlayer, getPlayers; every NDCore function is an export)
 *   server/main.lua        (playerDropped unloads; ND:playerEliminated sets metadata.dead)
 *   client/death.lua       (the client raises ND:playerEliminated on death)
 *
 * Left out: the database (characters live in memory), money logs, licenses, Discord roles,
 * principals, vehicles. ND has no duty flag (setDuty is a no-op) and no last stand
 * (setLastStand is setDead). The core has no handcuff flag: setCuffed sets the player's
 * `isCuffed` / `cuffType` state bag as ND_Police's client does (ND-Framework/ND_Police
 * a8a1d6f2622853ed0a92747b14141ba042ab8a1f client/cuff.lua). A revive is the character's
 * `revive()`, as ND's own commands and ND_Ambulance (bridge/framework/nd/server.lua) call it.
 */
import type { FxServer, Player } from '../emulator';
import { startLua } from './drive';
import type { CharacterSpec, FrameworkStandIn, JobSpec } from './types';

const CORE = 'ND_Core';

const source = `
NDCore = { players = {} }
Config = { groups = {} }
local broken = false
local nextCharId = 1

local function removeCharacterFunctions(character)
  local newData = {}
  for k, v in pairs(character) do
    if type(v) ~= 'function' then newData[k] = v end
  end
  return newData
end

local function createCharacterTable(info)
  local self = {
    id = info.id,
    source = info.source,
    identifier = info.identifier,
    name = info.name,
    firstname = info.firstname,
    lastname = info.lastname,
    fullname = ('%s %s'):format(info.firstname, info.lastname),
    dob = info.dob,
    gender = info.gender,
    cash = info.cash,
    bank = info.bank,
    phonenumber = info.phonenumber,
    groups = info.groups,
    metadata = info.metadata,
    inventory = info.inventory,
  }

  function self.getData(data) return self[data] end

  function self.getMetadata(metadata)
    if type(metadata) ~= 'table' then return self.metadata[metadata] end
    local returnData = {}
    for i = 1, #metadata do returnData[metadata[i]] = self.metadata[metadata[i]] end
    return returnData
  end

  function self.setData(key, value)
    if type(key) == 'table' then
      for k, v in pairs(key) do self[k] = v end
    else
      self[key] = value
    end
    self.triggerEvent('ND:updateCharacter', removeCharacterFunctions(self), key)
    TriggerEvent('ND:updateCharacter', self, key)
  end

  function self.setMetadata(key, value)
    if type(key) == 'table' then
      for k, v in pairs(key) do self.metadata[k] = v end
    else
      self.metadata[key] = value
    end
    self.triggerEvent('ND:updateCharacter', removeCharacterFunctions(self), 'metadata')
    TriggerEvent('ND:updateCharacter', self, 'metadata')
    return self.metadata
  end

  function self.unload()
    if not NDCore.players[self.source] then return end
    self.triggerEvent('ND:characterUnloaded')
    TriggerEvent('ND:characterUnloaded', self.source, self)
    NDCore.players[self.source] = nil
    return true
  end

  function self.triggerEvent(eventName, ...)
    if not self.source then return end
    TriggerClientEvent(eventName, self.source, ...)
    return true
  end

  function self.revive()
    self.triggerEvent('ND:revivePlayer')
    self.setMetadata({ dead = false, deathInfo = false })
  end

  function self.active()
    local char = NDCore.players[self.source]
    if char and char.id == self.id then return end
    if char then char.unload() end
    NDCore.players[self.source] = self
    TriggerEvent('ND:characterLoaded', self)
    self.triggerEvent('ND:characterLoaded', removeCharacterFunctions(self))
  end

  function self.addGroup(name, rank, customGroup, isJob)
    local groupRank = tonumber(rank) or 1
    local groupInfo = Config.groups[name] or {}
    if isJob then
      for _, group in pairs(self.groups) do group.isJob = nil end
    end
    self.groups[name] = {
      name = name,
      label = groupInfo.label or name,
      rankName = groupRank,
      rank = groupRank,
      isJob = isJob,
      isBoss = false,
      metadata = groupInfo.metadata or {},
    }
    if not isJob then
      self.triggerEvent('ND:updateCharacter', removeCharacterFunctions(self), 'groups')
      TriggerEvent('ND:updateCharacter', self, 'groups')
    end
    TriggerEvent('ND:groupAdded', self, self.groups[name])
    return self.groups[name]
  end

  function self.getGroup(name) return self.groups[name] end

  function self.removeGroup(name)
    local group = self.groups[name]
    if not group then return end
    if self.job == name then
      self.job = nil
      self.jobInfo = nil
    end
    self.groups[name] = nil
    self.triggerEvent('ND:updateCharacter', removeCharacterFunctions(self), 'groups')
    TriggerEvent('ND:updateCharacter', self, 'groups')
    TriggerEvent('ND:groupRemoved', self, group)
    return group
  end

  function self.setJob(name, rank, customGroup, keepGroup)
    if not keepGroup then self.removeGroup(self.job) end
    local job = self.addGroup(name, rank, customGroup, true)
    if job then
      self.job = job.name
      self.jobInfo = job
    end
    self.triggerEvent('ND:updateCharacter', removeCharacterFunctions(self), 'job')
    TriggerEvent('ND:updateCharacter', self, 'job')
    return job
  end

  function self.getJob()
    for name, group in pairs(self.groups) do
      if group.isJob then return name, group end
    end
  end

  local jobName, jobInfo = self.getJob()
  if jobInfo then
    self.job = jobName
    self.jobInfo = jobInfo
  end
  return self
end

function NDCore.getPlayer(src)
  return NDCore.players[src]
end

function NDCore.getPlayers(key, value)
  if not key or not value then return NDCore.players end
  local players = {}
  for src, info in pairs(NDCore.players) do
    if info[key] == value or info.metadata[key] == value then players[src] = info end
  end
  return players
end

function NDCore.newCharacter(src, info)
  local charInfo = {
    id = nextCharId,
    source = src,
    identifier = 'license:' .. tostring(src),
    name = GetPlayerName(src) or '',
    firstname = info.firstname or '',
    lastname = info.lastname or '',
    dob = info.dob or '',
    gender = info.gender or '',
    cash = info.cash or 0,
    bank = info.bank or 0,
    phonenumber = info.phonenumber,
    groups = info.groups or {},
    metadata = info.metadata or {},
    inventory = info.inventory or {},
  }
  nextCharId = nextCharId + 1
  return createCharacterTable(charInfo)
end

AddEventHandler('playerDropped', function()
  local src = source
  local char = NDCore.players[src]
  if char then char.unload() end
end)

AddEventHandler('onResourceStop', function(name)
  if name ~= GetCurrentResourceName() then return end
  for _, player in pairs(NDCore.players) do player.unload() end
end)

RegisterNetEvent('ND:playerEliminated', function(info)
  local src = source
  local player = NDCore.getPlayer(src)
  if not player then return end
  player.setMetadata({ dead = true, deathInfo = info })
end)

for name, func in pairs(NDCore) do
  if type(func) == 'function' then
    exports(name, function(...)
      if broken then error(('ND_Core stand-in: %s is broken'):format(name)) end
      return func(...)
    end)
  end
end

-- ---- sandbox drivers ------------------------------------------------------------------

exports('sandbox_login', function(src, spec)
  local groups = {}
  if spec.job then
    groups[spec.job.name] = { name = spec.job.name, label = spec.job.name, rankName = spec.job.grade,
      rank = spec.job.grade, isJob = true, isBoss = false, metadata = {} }
  end
  local character = NDCore.newCharacter(src, { firstname = spec.firstName, lastname = spec.lastName,
    phonenumber = spec.phone, groups = groups, metadata = {} })
  character.active()
end)

exports('sandbox_logout', function(src)
  local char = NDCore.players[src]
  if char then char.unload() end
end)

exports('sandbox_setJob', function(src, name, grade)
  NDCore.players[src].setJob(name, grade)
end)

exports('sandbox_revive', function(src)
  NDCore.players[src].revive()
end)

exports('sandbox_break', function() broken = true end)
`;

interface Drivers {
  sandbox_login(src: number, spec: Record<string, unknown>): void;
  sandbox_logout(src: number): void;
  sandbox_setJob(src: number, name: string, grade: number): void;
  sandbox_revive(src: number): void;
  sandbox_break(): void;
}

const drive = (fx: FxServer) => fx.exportsOf<Drivers>(CORE, { from: 'sandbox' });

const jobSpec = (job: JobSpec | undefined) => job && { name: job.name, grade: job.grade || 1 };

async function setDead(fx: FxServer, player: Player, dead: boolean): Promise<void> {
  if (dead) {
    // What client/death.lua sends when the player's ped dies.
    player.emitNet('ND:playerEliminated', { deathCause: 0, damagedBones: {}, timestamp: 0 });
    await fx.settle();
  } else {
    drive(fx).sandbox_revive(player.id);
  }
}

export const ndStandIn: FrameworkStandIn = {
  name: 'nd',
  resources: [CORE],
  async start(fx) {
    await startLua(fx, CORE, source);
  },
  async login(fx, player, character: CharacterSpec) {
    drive(fx).sandbox_login(player.id, {
      firstName: character.firstName,
      lastName: character.lastName,
      phone: character.phone ?? null,
      job: jobSpec(character.job),
    });
  },
  async logout(fx, player) {
    drive(fx).sandbox_logout(player.id);
  },
  async setJob(fx, player, job) {
    drive(fx).sandbox_setJob(player.id, job.name, job.grade || 1);
  },
  async setDuty() {},
  setDead,
  setLastStand: setDead,
  async setCuffed(fx, player, cuffed) {
    // ND_Police's client (client/cuff.lua) sets its own player's state bag, replicated.
    fx.setPlayerState(player.id, 'isCuffed', cuffed);
    fx.setPlayerState(player.id, 'cuffType', cuffed ? 'cuffs' : false);
  },
  async breakExports(fx) {
    drive(fx).sandbox_break();
  },
};

/** The same stand-in, by its short name. */
export const nd = ndStandIn;
