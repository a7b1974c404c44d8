/**
 * The body of `POST /v2/emergency/servers/{serverId}/dispatch-calls`, as the contract in
 * shared/reference documents it. The contract wins over newer docs for what we send: every
 * required field is always present and at least one identifier target is non-empty.
 */
import { z } from 'zod';

export const originSchema = z.union([z.literal(0), z.literal(1)], {
  error: 'expected a call origin: 0 (RADIO_DISPATCH) or 1 (SELF_INITIATED)',
});
export const statusSchema = z.union([z.literal(0), z.literal(1), z.literal(2)], {
  error: 'expected a call status: 0 (PENDING), 1 (ACTIVE) or 2 (CLOSED)',
});
export const prioritySchema = z
  .int({ error: 'expected a whole number (1 is the most urgent)' })
  .min(1, { error: 'expected a priority of 1 or more (1 is the most urgent)' })
  .max(9, { error: 'expected a priority of 9 or less' });

export const communityUserIdSchema = z
  .string({ error: 'expected a community user id (text)' })
  .min(1, { error: 'expected a non-empty community user id' })
  .max(255, { error: 'expected a community user id of at most 255 characters' });

export const accountSchema = z.guid({ error: 'expected an account UUID' });

export const deleteAfterMinutesSchema = z
  .int({ error: 'expected a whole number of minutes' })
  .positive({ error: 'expected a positive number of minutes' });

/** metaData values are strings on the wire: "425.1", never 425.1. */
export const metaDataSchema = z.record(z.string(), z.string({ error: 'expected text' }));

export const dispatchCallSchema = z
  .strictObject({
    origin: originSchema,
    status: statusSchema,
    priority: prioritySchema,
    block: z.string(),
    address: z.string(),
    postal: z.string(),
    title: z.string().min(1, { error: 'a call needs a title' }),
    code: z.string(),
    description: z.string(),
    notes: z.array(z.record(z.string(), z.unknown())),
    communityUserIds: z.array(communityUserIdSchema).optional(),
    accounts: z.array(accountSchema).optional(),
    metaData: metaDataSchema.optional(),
    deleteAfterMinutes: deleteAfterMinutesSchema.optional(),
  })
  .refine((c) => (c.communityUserIds?.length ?? 0) + (c.accounts?.length ?? 0) > 0, {
    error: 'the CAD needs at least one target in communityUserIds or accounts',
  });

export type DispatchCall = z.infer<typeof dispatchCallSchema>;
