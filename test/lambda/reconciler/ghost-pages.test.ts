// The ghost sweep of a scope with more registrations than one page, on the real adapters: the state
// item on DynamoDB (dynalite) and the runner list on a GHES simulator of each test's own.
import { Ec2Harness, GhesHarness, MANAGED_BY, POOL, reconcilerDeps, runnerRecord, startEc2, startGhes } from './harness';
import { Clock } from '../../../lambda/core/ports';
import { markGhostsLeft, updateReconcilerState } from '../../../lambda/core/reconciler-state';
import { ReconcilerLimits } from '../../../lambda/reconciler/reconciler-limits';
import { ReconcilerDeps, runReconciler } from '../../../lambda/reconciler/run-reconciler';
import { DynamoReconcilerStore } from '../../../lambda/state/dynamo-reconciler-store';
import { DynamoRunnerStore } from '../../../lambda/state/dynamo-runner-store';
import { DynamoStateStore } from '../../../lambda/state/dynamo-state-store';
import { grantedRole } from '../support/construct-grants';
import { DynamoTestEngine, startDynalite } from '../support/dynalite';
import { ManualClock } from '../support/in-memory-ports';

const MINUTE = 60_000;
const LIST_ROUTE = 'GET /orgs/{org}/actions/runners';
const DELETE_ROUTE = 'DELETE /orgs/{org}/actions/runners/{runner_id}';

let engine: DynamoTestEngine;
let ghes: GhesHarness;
let ec2: Ec2Harness;
let runners: DynamoRunnerStore;
let state: DynamoReconcilerStore;
let deps: (clock: Clock, limits?: Partial<ReconcilerLimits>) => ReconcilerDeps;

const role = grantedRole('reconciler', { managedBy: MANAGED_BY });

beforeAll(async () => {
  engine = await startDynalite({ asRole: role });
});
afterAll(async () => {
  await engine.stop();
});
beforeEach(async () => {
  // Registrations that never connect stay listed, as a busy organization's runners do.
  ghes = await startGhes({ jitRunnerTimeoutMs: 24 * 60 * MINUTE });
  ec2 = await startEc2(0.001, {}, role);
  const tableName = await engine.createStateTable();
  runners = new DynamoRunnerStore(engine.client, tableName);
  state = new DynamoReconcilerStore(engine.client, tableName);
  const jobs = new DynamoStateStore(engine.client, tableName);
  deps = (clock, limits = {}) => reconcilerDeps({ runners, jobs, state, ec2, ghes }, clock, limits);
});
afterEach(async () => {
  await ec2.stop();
  await ghes.stop();
});

/** 250 registrations of another runner system in the organization, then a ghost of ours listed last. */
async function crowdedScope(clock: Clock): Promise<string> {
  for (let i = 0; i < 250; i++) await ghes.register(`other-${i}`, `someone-else-${i}`);
  const ghost = await ghes.register('i-0000000000000000f');
  // A live runner keeps the scope active; the lifecycle saw one of its runners end idle.
  await runners.putRunner(runnerRecord('i-0000000000000000a', 'registered', clock.now()));
  await updateReconcilerState(state, (s) => markGhostsLeft(s, POOL.scope, clock.now()), clock.now());
  ghes.sim.resetApiCalls();
  return ghost.runnerName;
}

describe('ghost sweep of a crowded scope', () => {
  test('each page of the runner list is a call of the run\'s budget', async () => {
    // Arrange
    const clock = new ManualClock(Date.now());
    const ghost = await crowdedScope(clock);

    // Act
    const summary = await runReconciler(deps(clock), 'run-1');

    // Assert: three pages, and the ghost on the last one deleted.
    const calls = ghes.portCalls();
    expect(calls[LIST_ROUTE]).toBe(3);
    expect(calls[DELETE_ROUTE]).toBe(1);
    expect(summary.githubCalls).toBe(Object.values(calls).reduce((a, b) => a + b, 0));
    expect(ghes.sim.runners().map((r) => r.name)).not.toContain(ghost);
  }, 30_000);

  test('a list its page cap stopped leaves the scope due, and a later sweep that reads further deletes the ghost', async () => {
    // Arrange
    const clock = new ManualClock(Date.now());
    const ghost = await crowdedScope(clock);

    // Act: a sweep that may read two pages, then one with the default cap.
    await runReconciler(deps(clock, { maxRunnerPagesPerScope: 2 }), 'run-1');
    const capped = ghes.portCalls();
    clock.advance(2 * MINUTE);
    await runReconciler(deps(clock), 'run-2');

    // Assert
    expect(capped[LIST_ROUTE]).toBe(2);
    expect(capped[DELETE_ROUTE]).toBeUndefined();
    expect(ghes.sim.runners().map((r) => r.name)).not.toContain(ghost);
  }, 30_000);
});
