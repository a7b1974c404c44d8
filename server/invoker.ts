/**
 * Who called an export. GetInvokingResource() reads the second entry of FXServer's
 * script-runtime stack (citizenfx/fivem code/components/citizen-scripting-core/src/
 * ScriptHost.cpp, GetInvokingRuntime). On Node 22 resources of server builds 14427 to
 * 27055 every native call pushed the runtime once more (commit af627f736, "add missing
 * PushEnvironment calls"; undone by e5276bd86 in 27092), so inside an export it names the
 * resource itself. This resource never calls its own exports, so that answer can only be
 * the artifact: the real caller is unknown.
 */
import type { Logger } from './log';

/** The name callers share when the server cannot tell who they are. */
export const UNKNOWN_CALLER = '(unknown resource)';

export type Caller = { name: string; known: true } | { name: string; known: false };

export function createInvoker(own: string, invoking: () => string | null, log: Logger) {
  let warned = false;
  return (): Caller => {
    const name = invoking();
    // Another resource's export call always has an invoker; without one nobody can vouch
    // for the caller, so it passes no allow list.
    if (!name) return { name: UNKNOWN_CALLER, known: false };
    if (name !== own) return { name, known: true };
    if (!warned) {
      warned = true;
      log.warn(
        `GetInvokingResource() answered "${own}" inside an export another resource called: this FXServer build (14427 to 27055, Node 22 resources) cannot name export callers. Until the server is updated to build 27092 or newer, exportAllowList refuses every caller and all resources share one rate limit ("${UNKNOWN_CALLER}").`,
      );
    }
    return { name: UNKNOWN_CALLER, known: false };
  };
}
