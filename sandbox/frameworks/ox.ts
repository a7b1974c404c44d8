/**
 * ox_core stand-in, as a JavaScript server script (ox_core is TypeScript bundled to JS).
 *
 * Follows overextended/ox_core b45605ef3e5144385aaf2dbca40dbd8d36647b2f:
 *   server/classInterface.ts   (GetPlayer, GetPlayerCalls, CallPlayer: an unknown id or
 *                               method is logged and answers nothing)
 *   server/player/class.ts     (OxPlayer: public fields, #private metadata and groups,
 *                               get/set, setActiveGroup, setGroup, setActiveCharacter,
 *                               logout; GetPlayers export)
 *   server/player/loading.ts   (playerJoining assigns the OxPlayer its source;
 *                               playerDropped logs out)
 *   server/player/events.ts    (isDead state bag from ox:playerDeath / ox:playerRevived,
 *                               ox:playerLogout for everyone on ox_core's stop)
 *   server/groups/index.ts     (groups with an optional type)
 *
 * Left out: the database (characters live in memory), accounts, licenses, statuses,
 * principals, bans, vehicles. A login is the character creation plus
 * `setActiveCharacter`, as the client's `ox:setActiveCharacter` asks for it. ox_core has no
 * duty flag (setDuty is a no-op), no last stand (setLastStand is setDead) and no handcuffs
 * (setCuffed is a no-op).
 */
import type { FxServer, Player } from '../emulator';
import type { CharacterSpec, FrameworkStandIn, JobSpec } from './types';

const CORE = 'ox_core';

const source = `
let broken = false;
const groups = {};
let nextUserId = 1;
let nextCharId = 1;

function GetGroup(name) { return groups[name]; }
function GetGroupsByType(type) {
  return Object.values(groups).filter((g) => g.type === type).map((g) => g.name);
}

class OxPlayer {
  source = 0;
  userId = 0;
  charId;
  stateId;
  username = '';
  identifier = '';
  ped = 0;
  #characters = [];
  #metadata = {};
  #groups = {};

  static members = {};
  static callableMethods = {};

  static get(id) { return this.members[id]; }

  constructor(source) {
    this.source = source;
  }

  emit(eventName, ...args) { emitNet(eventName, this.source, ...args); }

  set(key, value, replicated) {
    this.#metadata[key] = value;
    if (replicated) this.emit('ox:setPlayerData', key, value);
  }

  get(key) { return this.#metadata[key]; }

  setActiveGroup(groupName, temp) {
    if (!this.charId || (groupName && !(groupName in this.#groups))) return false;
    const currentActiveGroup = this.get('activeGroup');
    this.set('activeGroup', groupName, true);
    emit('ox:setActiveGroup', this.source, groupName, currentActiveGroup);
    return true;
  }

  async setGroup(groupName, grade = 0) {
    if (!this.charId) return false;
    const group = GetGroup(groupName);
    if (!group) return console.warn('Failed to set OxPlayer<' + this.userId + '> ' + groupName + ':' + grade + ' (invalid group)');
    const currentGrade = this.#groups[groupName];
    if (currentGrade === grade) return;
    if (!grade) {
      if (!currentGrade) return;
      delete this.#groups[groupName];
      if (this.get('activeGroup') === groupName) this.set('activeGroup', undefined, true);
    } else {
      if (!currentGrade) {
        const related = group.type && GetGroupsByType(group.type);
        if (related && related.some((name) => name in this.#groups))
          return console.warn('Failed to set OxPlayer<' + this.userId + '> ' + group.name + ':' + grade + " (already has group of type '" + group.type + "')");
      }
      this.#groups[groupName] = grade;
    }
    emit('ox:setGroup', this.source, group.name, grade ? grade : null);
    this.emit('ox:setGroup', group.name, grade ? grade : null);
    return true;
  }

  getGroup(name) { return this.#groups[name]; }
  getGroups() { return this.#groups; }

  async logout(save = true, dropped = false) {
    if (!this.charId) return;
    emit('ox:playerLogout', this.source, this.userId, this.charId);
    if (dropped) return;
    delete this.charId;
    this.emit('ox:startCharacterSelect', this.userId, this.#characters);
  }

  createCharacter(data) {
    const character = {
      firstName: data.firstName,
      lastName: data.lastName,
      stateId: 'AB' + (1000 + nextCharId),
      charId: nextCharId++,
      isNew: true,
      gender: data.gender,
      phoneNumber: data.phoneNumber,
      groups: data.groups || [],
    };
    this.#characters.push(character);
    emit('ox:createdCharacter', this.source, this.userId, character.charId);
    return this.#characters.length - 1;
  }

  setActiveCharacter(data) {
    if (this.charId) return;
    const slot = this.createCharacter(data);
    const character = this.#characters[slot];
    this.charId = character.charId;
    this.stateId = character.stateId;
    this.ped = GetPlayerPed(String(this.source));
    for (const { name, grade } of character.groups) this.#groups[name] = grade;
    const activeGroup = character.groups.find((g) => g.isActive)?.name;
    this.emit('ox:setActiveCharacter', character, this.#groups);
    this.set('name', character.firstName + ' ' + character.lastName, true);
    this.set('firstName', character.firstName, true);
    this.set('lastName', character.lastName, true);
    this.set('gender', character.gender, true);
    this.set('phoneNumber', character.phoneNumber, true);
    this.set('activeGroup', activeGroup, true);
    Player(this.source).state.set('isDead', false, true);
    emit('ox:playerLoaded', this.source, this.userId, character.charId);
    return character;
  }

  call(method, ...args) { return this[method](...args); }
}

for (const method of Object.getOwnPropertyNames(OxPlayer.prototype))
  if (method !== 'constructor') OxPlayer.callableMethods[method] = true;

function isCallValid(method, id, member) {
  if (!member) return console.error('cannot call method ' + method + ' on OxPlayer<' + id + '> (invalid id)');
  if (!member[method]) return console.error('cannot call method ' + method + ' on OxPlayer<' + id + '> (method does not exist)');
  if (!OxPlayer.callableMethods[method]) return console.error('cannot call method ' + method + ' on OxPlayer<' + id + '> (method is not exported)');
  return true;
}

function real(name, fn) {
  exports(name, (...args) => {
    if (broken) throw new Error('ox_core stand-in: ' + name + ' is broken');
    return fn(...args);
  });
}

real('GetPlayer', (id) => OxPlayer.get(id));
real('GetPlayerCalls', () => OxPlayer.callableMethods);
real('CallPlayer', (id, method, ...args) => {
  const member = OxPlayer.get(id);
  if (!isCallValid(method, id, member)) return;
  return member.call(method, ...args);
});
real('GetPlayers', () => Object.values(OxPlayer.members));
real('GetGroupsByType', GetGroupsByType);

on('playerJoining', () => {
  const player = new OxPlayer(source);
  player.userId = nextUserId++;
  player.username = GetPlayerName(String(source));
  OxPlayer.members[source] = player;
  Player(source).state.set('userId', player.userId, true);
});

on('playerDropped', () => {
  const player = OxPlayer.get(source);
  if (!player) return;
  player.logout(true, true);
  delete OxPlayer.members[player.source];
});

on('onResourceStop', (resource) => {
  if (resource !== GetCurrentResourceName()) return;
  for (const player of Object.values(OxPlayer.members))
    if (player.charId) emit('ox:playerLogout', player.source, player.userId, player.charId);
});

onNet('ox:playerDeath', () => Player(source).state.set('isDead', true, true));
onNet('ox:playerRevived', () => Player(source).state.set('isDead', false, true));

// ---- sandbox drivers ------------------------------------------------------------------

function member(src) {
  let player = OxPlayer.get(src);
  if (!player) {
    // Joined before ox_core started: ox_core loads connected players the same way.
    player = new OxPlayer(src);
    player.userId = nextUserId++;
    player.username = GetPlayerName(String(src));
    OxPlayer.members[src] = player;
  }
  return player;
}

function ensureGroup(name, type) {
  if (!groups[name]) groups[name] = { name, label: name, type: type ?? undefined, grades: { 1: 'Member' } };
  else if (type) groups[name].type = type;
}

exports('sandbox_login', (src, spec) => {
  const player = member(src);
  const list = [];
  if (spec.group) {
    ensureGroup(spec.group.name, spec.group.type);
    list.push({ name: spec.group.name, grade: spec.group.grade || 1, isActive: true });
  }
  player.setActiveCharacter({
    firstName: spec.firstName,
    lastName: spec.lastName,
    gender: 'male',
    phoneNumber: spec.phone ?? undefined,
    groups: list,
  });
});

exports('sandbox_logout', (src) => member(src).logout());

exports('sandbox_setGroup', async (src, name, type, grade) => {
  const player = member(src);
  ensureGroup(name, type);
  // One group of a type at a time: leave the others of that type first.
  const previous = player.get('activeGroup');
  if (previous && previous !== name) await player.setGroup(previous, 0);
  await player.setGroup(name, grade || 1);
  player.setActiveGroup(name);
});

exports('sandbox_break', () => { broken = true; });
`;

interface Drivers {
  sandbox_login(src: number, spec: Record<string, unknown>): void;
  sandbox_logout(src: number): void;
  sandbox_setGroup(src: number, name: string, type: string | null, grade: number): Promise<void>;
  sandbox_break(): void;
}

const drive = (fx: FxServer) => fx.exportsOf<Drivers>(CORE, { from: 'sandbox' });

const groupSpec = (job: JobSpec | undefined) =>
  job && { name: job.name, type: job.type ?? null, grade: job.grade || 1 };

async function setDead(fx: FxServer, player: Player, dead: boolean): Promise<void> {
  // ox_core's client sends these from its death handling (client/death.ts).
  player.emitNet(dead ? 'ox:playerDeath' : 'ox:playerRevived');
  await fx.settle();
}

export const oxStandIn: FrameworkStandIn = {
  name: 'ox',
  resources: [CORE],
  async start(fx) {
    if (!fx.startResource(CORE, { server: source })) throw new Error(`${CORE} did not start`);
  },
  async login(fx, player, character: CharacterSpec) {
    drive(fx).sandbox_login(player.id, {
      firstName: character.firstName,
      lastName: character.lastName,
      phone: character.phone ?? null,
      group: groupSpec(character.job),
    });
  },
  async logout(fx, player) {
    drive(fx).sandbox_logout(player.id);
  },
  async setJob(fx, player, job) {
    await drive(fx).sandbox_setGroup(player.id, job.name, job.type ?? null, job.grade || 1);
  },
  async setDuty() {},
  setDead,
  setLastStand: setDead,
  async setCuffed() {},
  async breakExports(fx) {
    drive(fx).sandbox_break();
  },
};

/** The same stand-in, by its short name. */
export const ox = oxStandIn;
