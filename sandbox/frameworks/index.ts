/** Every stand-in by the name config.json's `framework` uses, for the sandbox and tests. */
import { esxStandIn } from './esx';
import { ndStandIn } from './nd';
import { oxStandIn } from './ox';
import { qbStandIn } from './qb';
import { qbxStandIn } from './qbx';
import type { FrameworkStandIn } from './types';

export const FRAMEWORK_STAND_INS: Record<FrameworkStandIn['name'], FrameworkStandIn> = {
  qbx: qbxStandIn,
  qb: qbStandIn,
  esx: esxStandIn,
  ox: oxStandIn,
  nd: ndStandIn,
};
