/**
 * Which framework the server runs: the configured one, or under "auto" the first started
 * core in an order that survives `provide`: Qbox declares `provide 'qb-core'`, so a Qbox
 * server also answers "started" for qb-core and must be recognised first.
 */
import type { FrameworkName } from './types';

export type FrameworkSetting = FrameworkName | 'auto' | 'none';

/** The core resource each framework runs as. */
export const CORE_RESOURCE: Record<FrameworkName, string> = {
  qbx: 'qbx_core',
  qb: 'qb-core',
  esx: 'es_extended',
  ox: 'ox_core',
  nd: 'ND_Core',
};

/**
 * Checked in this order under "auto": Qbox first (it provides qb-core); ND_Core and ox_core
 * before the older two, in case a server has them provide one of those names (ND_Core ships
 * such lines commented out).
 */
export const DETECTION_ORDER: readonly FrameworkName[] = ['qbx', 'nd', 'ox', 'qb', 'esx'];

export interface FrameworkChoice {
  name: FrameworkName | null;
  /** For the ready line: how it was chosen. */
  how: string;
}

export function chooseFramework(
  setting: FrameworkSetting,
  resourceState: (resource: string) => string,
): FrameworkChoice {
  if (setting === 'none') return { name: null, how: 'framework "none" in config.json' };
  if (setting !== 'auto') {
    const core = CORE_RESOURCE[setting];
    const state = resourceState(core);
    // Configured but not (yet) started: used anyway, the reads fall back until it runs.
    const note = state === 'started' ? '' : `; ${core} is ${state} for now`;
    return { name: setting, how: `set in config.json${note}` };
  }
  for (const name of DETECTION_ORDER) {
    if (resourceState(CORE_RESOURCE[name]) === 'started')
      return { name, how: `detected: ${CORE_RESOURCE[name]} is started` };
  }
  return { name: null, how: 'standalone: none of them is started' };
}
