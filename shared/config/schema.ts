/**
 * The server owner's contract: config.json. Every key is optional; the defaults below are
 * what a fresh install runs with, and docs/config.md documents each one.
 */
import { z } from 'zod';
import {
  accountSchema,
  communityUserIdSchema,
  deleteAfterMinutesSchema,
  originSchema,
  prioritySchema,
  statusSchema,
} from '../call/contract';
import { defaultMessages, type MessageKey } from './locale';

const text = (what: string) => z.string({ error: `expected ${what}` });
const wholeNumber = (what: string, min: number, max: number) =>
  z
    .int({ error: `expected ${what}: a whole number from ${min} to ${max}` })
    .min(min, { error: `expected ${what}: a whole number from ${min} to ${max}` })
    .max(max, { error: `expected ${what}: a whole number from ${min} to ${max}` });

/** A path inside this resource: relative, no `..`, so config cannot read other folders. */
const resourcePath = text('a file path inside this resource, like "postals.json"').refine(
  (p) => p.length > 0 && !p.startsWith('/') && !p.split(/[\\/]/).includes('..'),
  { error: 'expected a relative path inside this resource (no leading "/" and no "..")' },
);

/** The operator command this resource registers; no chat command may take its name. */
export const OPERATOR_COMMAND = 'sonoran911';

/**
 * What every call template holds, a command's and the export defaults' alike: one schema,
 * so the two can never drift apart. Only the defaults (and how a code is described) differ.
 */
const templateFields = (defaults: { code: string; codeLabel: string; priority: number }) => ({
  code: text(defaults.codeLabel).max(32).default(defaults.code),
  priority: prioritySchema.default(defaults.priority),
  origin: originSchema.default(0),
  status: statusSchema.default(1),
  /** Attach the caller's own community user id so the call shows who called. */
  attachCaller: z.boolean({ error: 'expected true or false' }).default(true),
  communityUserIds: z.array(communityUserIdSchema).max(50).default([]),
  accounts: z.array(accountSchema).max(50).default([]),
  deleteAfterMinutes: deleteAfterMinutesSchema.nullable().default(null),
});

/** Who hears of a call in game: players holding these jobs or job types, or this ACE. */
export const alertSchema = z.strictObject({
  /** Job names as the framework keys them ("police", "sheriff"). */
  jobs: z.array(text('a job name like "police"').min(1).max(64)).max(50).default([]),
  /** Job types where the framework has them (Qbox/QBCore "leo", "ems"). */
  types: z.array(text('a job type like "leo"').min(1).max(64)).max(50).default([]),
  /** Only responders on duty; a framework with no duty flag counts everyone with the job. */
  onDutyOnly: z.boolean({ error: 'expected true or false' }).default(true),
  /** Standalone servers: players with this ACE hear of the call too. */
  ace: text('an ACE name like "sonoran911.responder", or null')
    .min(1)
    .max(64)
    .nullable()
    .default(null),
  /** How long the call's blip stays on a responder's map; 0 draws none. */
  blipSeconds: wholeNumber('seconds', 0, 3_600).default(120),
});
export type AlertConfig = z.infer<typeof alertSchema>;

/** Who hears of a call when a command does not say: /911 police and EMS, /311 police. */
export function defaultAlert(commandName: string): AlertConfig | null {
  if (commandName === '911')
    return alertSchema.parse({ jobs: ['police', 'ambulance'], types: ['leo', 'ems'] });
  if (commandName === '311') return alertSchema.parse({ jobs: ['police'], types: ['leo'] });
  return null;
}

/** A list of item names, or one; the player must carry at least one of them. */
const itemNames = z
  .union(
    [
      text('an item name like "phone"').min(1).max(64),
      z.array(text('an item name like "phone"').min(1).max(64)).min(1).max(20),
    ],
    { error: 'expected an item name like "phone", a list of them, or null' },
  )
  .transform((v) => (typeof v === 'string' ? [v] : v));

export const commandSchema = z
  .strictObject({
    /** Chat command without the slash. */
    name: text('a command name like "911"')
      .regex(/^[A-Za-z0-9_-]{1,32}$/, {
        error: 'expected a command name of 1 to 32 letters, digits, "-" or "_", without the "/"',
      })
      // One name is one command slot: a call command of this name would swallow
      // "/sonoran911 status" and send it to the CAD as a call.
      .refine((n) => n.toLowerCase() !== OPERATOR_COMMAND, {
        error: `expected another name: "${OPERATOR_COMMAND}" is this resource's operator command (${OPERATOR_COMMAND} status, queue, dead, retry, drop)`,
      }),
    /** Chat suggestion shown next to the command. */
    help: text('help text').max(120).default('Call emergency services'),
    title: text('a call title').min(1).max(100).default('911 Call'),
    ...templateFields({ code: '911', codeLabel: 'a call code like "911"', priority: 1 }),
    /** Seconds a player waits between two accepted calls with this command. */
    cooldownSeconds: wholeNumber('seconds', 0, 86_400).default(60),
    /** ACE a player needs, e.g. "sonoran911.call"; null lets everyone use the command. */
    ace: text('an ACE name or null').min(1).max(64).nullable().default(null),
    /** The CAD sees "Anonymous" and no caller id; the server log still names the caller. */
    anonymous: z.boolean({ error: 'expected true or false' }).default(false),
    /** A dead or last-stand caller: allowed, refused, or a distress call sent for them. */
    downed: z
      .enum(['allow', 'refuse', 'distress'], { error: 'expected "allow", "refuse" or "distress"' })
      .default('allow'),
    cuffed: z.enum(['allow', 'refuse'], { error: 'expected "allow" or "refuse"' }).default('allow'),
    /** An item (or one of several) the caller must carry; null: none needed. */
    phoneItem: itemNames.nullable().default(null),
    /** The title of the call sent for a downed caller when downed is "distress". */
    distressTitle: text('a call title').min(1).max(100).default('Person down'),
    /** Who hears of the call in game; left out: the default for /911 and /311, none for others. */
    alert: alertSchema.nullable().optional(),
  })
  .refine(
    (c) => (c.attachCaller && !c.anonymous) || c.communityUserIds.length + c.accounts.length > 0,
    {
      // The contract requires one identifier target; a call without one would be refused.
      error:
        'the CAD needs a target: list communityUserIds or accounts (or set attachCaller to true on a command that is not anonymous)',
    },
  )
  .transform((c) => ({ ...c, alert: c.alert === undefined ? defaultAlert(c.name) : c.alert }));
export type CommandConfig = z.infer<typeof commandSchema>;

export const defaultCommands: z.input<typeof commandSchema>[] = [
  { name: '911', help: 'Call emergency services', title: '911 Call', code: '911', priority: 1 },
  {
    name: '311',
    help: 'Non-emergency line',
    title: '311 Call',
    code: '311',
    priority: 3,
  },
];

const messageOverrides = z.strictObject(
  Object.fromEntries(
    Object.keys(defaultMessages).map((k) => [k, text('text').max(300).optional()]),
  ) as Record<MessageKey, z.ZodOptional<z.ZodString>>,
);

export const configSchema = z
  .strictObject({
    api: z
      .strictObject({
        /**
         * The CAD API root; the request path is appended to it, so a query or fragment would
         * send the call elsewhere, and a user:password would be logged and stored.
         */
        baseUrl: z
          .url({
            protocol: /^https?$/,
            error: 'expected an http(s) URL like "https://api.sonorancad.com"',
          })
          .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(u), {
            error:
              'expected no user name or password (the "user:password@" part): the CAD takes only the API key, from the convar sonoran911_apiKey',
          })
          .refine((u) => !u.includes('?'), {
            error:
              'expected no "?query": the request path is appended to api.baseUrl, so the call would go to the wrong address',
          })
          .refine((u) => !u.includes('#'), {
            error:
              'expected no "#fragment": the request path is appended to api.baseUrl, so the call would go to the wrong address',
          })
          .default('https://api.sonorancad.com'),
        /** Prefer the convar `sonoran911_apiKey`: a key in this file is one leak away. */
        apiKey: text('the API key as text').default(''),
        serverId: wholeNumber('a CAD server id', 1, 1_000_000).default(1),
        /** Milliseconds before a request counts as failed. */
        timeoutMs: wholeNumber('milliseconds', 1_000, 120_000).default(15_000),
      })
      .prefault({}),
    rateLimit: z
      .strictObject({
        /** Requests the CAD allows per window for this endpoint and key. */
        requests: wholeNumber('a number of requests', 1, 1_000).default(20),
        windowSeconds: wholeNumber('seconds', 1, 3_600).default(60),
        /** Extra milliseconds a request's slot is held after its response. */
        marginMs: wholeNumber('milliseconds', 0, 60_000).default(500),
        /** Notes the CAD allows per window on its own endpoint (Add Call Note), for merged reports. */
        noteRequests: wholeNumber('a number of requests', 1, 1_000).default(60),
      })
      .prefault({}),
    /**
     * Reports of one incident become one call: a report close to a recent call of the same
     * command (or the caller's own second report) joins it; null turns merging off.
     */
    merge: z
      .strictObject({
        radiusMeters: wholeNumber('metres', 1, 5_000).default(100),
        windowMinutes: wholeNumber('minutes', 1, 120).default(5),
        sameCommand: z.boolean({ error: 'expected true or false' }).default(true),
        /** A caller's follow-ups skip the cooldown, but at most one per this many seconds. */
        followUpSeconds: wholeNumber('seconds', 0, 3_600).default(10),
      })
      .nullable()
      .prefault({}),
    /**
     * Several servers on one API key share its budget through Redis (null: this server owns the
     * whole budget). The URL may hold a password: prefer the convar sonoran911_redisUrl.
     */
    sharedBudget: z
      .strictObject({
        redisUrl: text('a Redis URL like "redis://127.0.0.1:6379"')
          .max(500)
          .regex(/^rediss?:\/\/\S+$/, {
            error: 'expected a Redis URL starting with redis:// or rediss://',
          })
          .optional(),
        /** This server's name among those sharing the key; each needs its own. */
        name: text('this server\'s name, like "main": letters, digits, "-", "_" or "."').regex(
          /^[A-Za-z0-9_.-]{1,32}$/,
          {
            error:
              'expected this server\'s name, like "main": 1 to 32 letters, digits, "-", "_" or "."',
          },
        ),
        /** Requests per window held back from the shared budget, for a Redis failover. */
        reserve: wholeNumber('a number of requests', 0, 999).default(2),
        /**
         * How long a server that stopped answering (crashed, cut off) still counts as live:
         * renewed every third of it. Longer rides out slow hosts; shorter frees the others sooner.
         */
        leaseSeconds: wholeNumber('seconds', 2, 120).default(10),
        /**
         * The URL is one node of a Redis Cluster: connect as a cluster client, which follows
         * the budget's keys (one hash slot) to the node that holds them.
         */
        cluster: z.boolean({ error: 'expected true or false' }).default(false),
      })
      .nullable()
      .default(null),
    queue: z
      .strictObject({
        /** Calls waiting or in flight at most; past it new calls are refused, none is dropped. */
        maxLength: wholeNumber('a number of calls', 1, 10_000).default(500),
        /** Every this many seconds of waiting raise a call's priority one step (1 is the most urgent). */
        agingSeconds: wholeNumber('seconds', 1, 86_400).default(120),
      })
      .prefault({}),
    retry: z
      .strictObject({
        /** The first retry after a failure waits up to this long; each next one doubles. */
        backoffBaseMs: wholeNumber('milliseconds', 100, 60_000).default(2_000),
        /** Longest wait between two attempts of one call. */
        backoffMaxMs: wholeNumber('milliseconds', 1_000, 3_600_000).default(300_000),
      })
      .prefault({}),
    identity: z
      .strictObject({
        identifierOrder: z
          .array(
            text('an identifier type like "license"').regex(/^[a-z0-9]+$/, {
              error: 'expected an identifier type without ":", like "license" or "discord"',
            }),
          )
          .min(1, { error: 'expected at least one identifier type' })
          .default(['license', 'discord', 'fivem', 'steam']),
        stripPrefix: z.boolean({ error: 'expected true or false' }).default(true),
        overrides: z
          .record(
            text('a full identifier').regex(/^[a-z0-9]+:.+$/, {
              error: 'expected a full identifier like "license:abc123" as the key',
            }),
            communityUserIdSchema,
          )
          .default({}),
      })
      .prefault({}),
    postals: z
      .strictObject({
        file: resourcePath.nullable().default(null),
        resource: text('a resource name').min(1).nullable().default('nearest-postal'),
      })
      .prefault({}),
    location: z
      .strictObject({
        addressFormat: text('a template like "{street}, {zone}"')
          .max(200)
          .default('{street}, {zone}'),
        blockFormat: text('a template like "{street} / {crossing}"')
          .max(200)
          .default('{street} / {crossing}'),
      })
      .prefault({}),
    report: z
      .strictObject({
        /** Longest description kept, in characters; the rest is cut. */
        maxLength: wholeNumber('a number of characters', 10, 2_000).default(500),
        /**
         * The description the dispatcher reads: the caller's words, then who called and the
         * number to call back, as a 911 screen shows them. A part with no value is left out.
         */
        descriptionFormat: text('a template like "{words}\\nCaller: {name}\\nCallback: {phone}"')
          .max(300)
          .refine((t) => t.includes('{words}'), { error: 'expected a template with {words} in it' })
          .default('{words}\nCaller: {name}\nCallback: {phone}'),
      })
      .prefault({}),
    /** The roleplay framework characters, jobs and downed players are read from. */
    framework: z
      .enum(['auto', 'qbx', 'qb', 'esx', 'ox', 'nd', 'none'], {
        error: 'expected "auto", "qbx", "qb", "esx", "ox", "nd" or "none"',
      })
      .default('auto'),
    /** The phone resource asked for a caller's number when the framework has none. */
    phone: text('"auto", a phone resource name like "npwd", or null')
      .min(1)
      .max(64)
      .nullable()
      .default('auto'),
    /**
     * A Discord webhook (or a relay taking its body) told of a refused key, an outage, a dead
     * letter and a filling queue. Prefer the convar sonoran911_webhook: the URL is a secret.
     */
    staffWebhook: text('an http(s) webhook URL, or null').nullable().default(null),
    commands: z
      .array(commandSchema)
      .max(20)
      .default(() => defaultCommands.map((c) => commandSchema.parse(c)))
      .refine((cs) => new Set(cs.map((c) => c.name.toLowerCase())).size === cs.length, {
        error: 'expected each command name once',
      }),
    /** Defaults for calls other resources raise with the createDispatchCall export. */
    exportDefaults: z
      .strictObject({
        ...templateFields({ code: 'ALERT', codeLabel: 'a call code', priority: 2 }),
        /** A robbery or an alarm is police business unless the server says otherwise. */
        alert: alertSchema
          .nullable()
          .default(() => alertSchema.parse({ jobs: ['police'], types: ['leo'] })),
      })
      .prefault({}),
    /** Resources allowed to call the exports; null lets every resource. */
    exportAllowList: z.array(text('a resource name').min(1).max(64)).nullable().default(null),
    /** Calls one resource may raise per minute through the exports (a runaway script cannot fill the queue). */
    exportCallsPerMinute: wholeNumber('calls per minute', 1, 1_000).default(30),
    messages: messageOverrides.prefault({}),
  })
  .superRefine((config, ctx) => {
    // The reserve comes out of every lane's budget: a reserve as large leaves nothing to send.
    const budget = config.sharedBudget;
    const smallest = Math.min(config.rateLimit.requests, config.rateLimit.noteRequests);
    if (budget && budget.reserve >= smallest) {
      ctx.addIssue({
        code: 'custom',
        path: ['sharedBudget', 'reserve'],
        input: budget.reserve,
        message: `expected fewer requests than the smallest lane budget (${smallest}, from rateLimit)`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
