// Exports and function references: what crosses from one runtime into another is copied
// msgpack-style, except functions, which arrive as callable references.
import type { ScriptContext } from './context';
import { hostRealm, isThenable, packCopy, type Realm } from './copy';
import type { Fn, Kernel, Origin } from './kernel';
import type { Player } from './player';

export class Bridge {
  /** Resource names of the callers in the current synchronous call chain. */
  private readonly invoking: (string | null)[] = [];

  constructor(private readonly k: Kernel) {}

  invokingResource(): string | null {
    return this.invoking.at(-1) ?? null;
  }

  withInvoker<T>(name: string | null, fn: () => T): T {
    this.invoking.push(name);
    try {
      return fn();
    } finally {
      this.invoking.pop();
    }
  }

  /** The `exports` global of a runtime: a function to define, a table to call others. */
  exportsGlobal(ctx: ScriptContext): unknown {
    const define = (name: unknown, fn: unknown) => {
      if (!ctx.alive) return;
      if (typeof fn !== 'function') {
        throw new ctx.realm.TypeError(`exports(${String(name)}): expected a function`);
      }
      ctx.exported.set(String(name), fn as Fn);
    };
    return new Proxy(define, {
      apply: (_t, _this, args: unknown[]) => define(args[0], args[1]),
      get: (_t, key) =>
        typeof key === 'string'
          ? this.exportTable(ctx.player, key, ctx, ctx.resource, ctx.realm)
          : undefined,
    });
  }

  exportTable(
    scope: Player | null,
    resource: string,
    caller: ScriptContext | null,
    callerName: string | null,
    callerRealm: Realm,
  ): Record<string, Fn> {
    return new Proxy({} as Record<string, Fn>, {
      get: (_t, key) => {
        if (typeof key !== 'string') return undefined;
        // FiveM resolves at access time, so a missing export throws before the call.
        if (!this.exportTarget(scope, resource, key)) {
          throw new callerRealm.Error(`No such export ${key} in resource ${resource}`);
        }
        return (...args: unknown[]) =>
          this.callExport(scope, resource, key, args, caller, callerName, callerRealm);
      },
    });
  }

  private exportTarget(scope: Player | null, resource: string, name: string) {
    const ctx = this.k.runtimeOf(scope, resource);
    return ctx?.exported.has(name) ? ctx : undefined;
  }

  private callExport(
    scope: Player | null,
    resource: string,
    name: string,
    args: unknown[],
    caller: ScriptContext | null,
    callerName: string | null,
    callerRealm: Realm,
  ): unknown {
    const target = this.exportTarget(scope, resource, name);
    if (!target) throw new callerRealm.Error(`No such export ${name} in resource ${resource}`);
    const fn = target.exported.get(name)!;
    const inArgs = packCopy(args, target.realm, (f) =>
      this.funcRef(f as Fn, caller, callerName, target),
    ) as unknown[];
    let result: unknown;
    try {
      result = this.withInvoker(callerName, () => fn(...inArgs));
    } catch (error) {
      this.k.recordError(target, `export ${name}`, error);
      throw new callerRealm.Error(
        `An error occurred while calling export ${name} of resource ${resource} - see above for details`,
      );
    }
    // A promise does not survive the trip (it arrives as {}); its failure is still printed.
    if (isThenable(result)) {
      result.then(undefined, (e: unknown) => this.k.recordError(target, `export ${name}`, e));
    }
    return packCopy(result, callerRealm, (f) =>
      this.funcRef(f as Fn, target, target.resource, caller),
    );
  }

  /**
   * A function handed from `owner` (null: the test) to `holder`: callable across the
   * boundary, arguments and result copied each way, errors recorded for the owner.
   */
  funcRef(
    fn: Fn,
    owner: ScriptContext | null,
    ownerName: string | null,
    holder: ScriptContext | null,
  ): Fn {
    if (owner && owner === holder) return fn;
    const ownerRealm = owner?.realm ?? hostRealm;
    const holderRealm = holder?.realm ?? hostRealm;
    const origin: Origin = owner ?? {
      resource: ownerName ?? '(test)',
      side: 'server',
      player: null,
    };
    return (...args: unknown[]) => {
      if (owner && !owner.alive) {
        throw new holderRealm.Error(
          `function reference of resource ${owner.resource} is no longer valid (resource stopped)`,
        );
      }
      const inArgs = packCopy(args, ownerRealm, (g) =>
        this.funcRef(g as Fn, holder, holder?.resource ?? null, owner),
      ) as unknown[];
      let result: unknown;
      try {
        result = this.withInvoker(holder?.resource ?? null, () => fn(...inArgs));
      } catch (error) {
        this.k.recordError(origin, 'function reference', error);
        throw new holderRealm.Error(
          `An error occurred while calling a function reference of ${origin.resource} - see above for details`,
        );
      }
      if (isThenable(result)) {
        result.then(undefined, (e: unknown) => this.k.recordError(origin, 'function reference', e));
      }
      return packCopy(result, holderRealm, (g) => this.funcRef(g as Fn, owner, ownerName, holder));
    };
  }
}
