/**
 * The smallest valid dispatch call and the scheduler's usual settings, for the tests and the
 * benchmark: each names only what it is about and takes the rest from here.
 */
import type { DispatchCall } from '../../shared/call/contract';
import type { SchedulerOptions } from '../../shared/delivery/scheduler';

export function dispatchCall(fields: Partial<DispatchCall> = {}): DispatchCall {
  return {
    origin: 0,
    status: 1,
    priority: 1,
    block: '',
    address: '',
    postal: '',
    title: 'x',
    code: '911',
    description: '',
    notes: [],
    communityUserIds: ['u'],
    ...fields,
  };
}

/** config.json's defaults, as server/index.ts turns them into scheduler options. */
export function schedulerOptions(overrides: Partial<SchedulerOptions> = {}): SchedulerOptions {
  return {
    requests: 20,
    windowMs: 60_000,
    marginMs: 500,
    backoffBaseMs: 2_000,
    backoffMaxMs: 300_000,
    maxQueue: 500,
    agingMs: 120_000,
    maxRequestMs: 15_000,
    ...overrides,
  };
}
