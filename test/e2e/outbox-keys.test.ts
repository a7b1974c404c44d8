import { afterEach, describe, expect, it } from 'vitest';
import { op, playersReady, RESOURCE, type Rig, said, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('outbox records edited by hand', () => {
  it('sends a call once, however its record was copied or renamed, and sets the copies aside', async () => {
    // Retries far apart, so no attempt is in flight at the restart.
    rig = await startRig({ config: { retry: { backoffBaseMs: 60_000 } } });
    rig.cad.setOutage({ status: 503 });
    const [p] = await playersReady(rig, 1);
    p!.type('/911 the real call');
    await rig.fx.waitFor(
      () =>
        said(p!, /received/) &&
        rig!.cad.requests.some((q) => q.status === 503) &&
        /^queue: 1 waiting .*, 0 in flight/.test(op(rig!, 'sonoran911 status')[0]!),
      { what: 'the call waiting after a refusal, not in flight' },
    );
    const kvp = rig.fx.kvp(RESOURCE);
    const [key] = [...kvp.keys()].filter((k) => k.startsWith('outbox:call:'));
    const id = key!.slice('outbox:call:'.length);
    const record = JSON.parse(kvp.get(key!)!);
    // An owner copied the record (two records, one id) and renamed another one's id by hand
    // (key outbox:call:A holding call B).
    kvp.set('outbox:call:copy', JSON.stringify(record));
    record.job.id = 'B-edited';
    record.job.call.description = 'edited by hand';
    kvp.set('outbox:call:A-edited', JSON.stringify(record));

    rig.restart();
    rig.cad.setOutage(null);
    expect(rig.log()).toContain(
      `outbox record set aside: outbox:call:copy: holds call ${id}, which belongs under outbox:call:${id}; kept as outbox:corrupt:copy`,
    );
    expect(rig.log()).toContain(
      'outbox record set aside: outbox:call:A-edited: holds call B-edited, which belongs under outbox:call:B-edited; kept as outbox:corrupt:A-edited',
    );
    expect(rig.log()).toMatch(/outbox: 1 call\(s\) from before the restart will be sent/);
    await rig.fx.waitFor(() => said(p!, /created/), { what: 'the call created' });
    await rig.fx.settle();

    // Restarts later send nothing again.
    for (let i = 0; i < 2; i++) {
      rig.restart();
      await rig.fx.settle();
    }
    expect(rig.cad.calls.map((c) => c.body.description)).toEqual(['the real call']);
    expect([...kvp.keys()].filter((k) => k.startsWith('outbox:')).sort()).toEqual([
      'outbox:budget',
      'outbox:corrupt:A-edited',
      'outbox:corrupt:copy',
    ]);
  });
});
