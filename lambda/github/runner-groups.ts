// Runner groups by name: a config may name its group instead of giving its id. The id is looked up
// in the scope's runner groups (GET /orgs/{org}/actions/runner-groups, or the enterprise's) and kept
// for a while, so a burst of registrations makes one lookup; a name not found is never kept, so a
// group created afterwards is found at the next registration.
// https://docs.github.com/en/enterprise-server@3.19/rest/actions/self-hosted-runner-groups
import { RunnerGroupNotFoundError } from '../core/github';

/** How long a group's id is trusted (a group renamed, or deleted and made again, gets found again after it). */
const GROUP_ID_TTL_MS = 10 * 60_000;
const PAGE_SIZE = 100;

/** Lists one page of a scope's runner groups. */
export type ListGroupsPage = (page: number) => Promise<readonly { readonly id: number; readonly name: string }[]>;

export class RunnerGroupIds {
  /** Group ids by scope key, then by name (case-insensitively: GitHub refuses two groups whose names differ in case only). */
  private readonly byScope = new Map<string, Promise<{ readonly ids: ReadonlyMap<string, number>; readonly at: number }>>();

  constructor(private readonly now: () => number) {}

  /** The id of the group named `name` in the scope; throws {@link RunnerGroupNotFoundError} if it has none. */
  async idOf(scopeKey: string, name: string, listPage: ListGroupsPage): Promise<number> {
    let cached = this.byScope.get(scopeKey);
    const fresh = cached && (await cached.catch(() => undefined));
    if (!fresh || this.now() - fresh.at > GROUP_ID_TTL_MS || !fresh.ids.has(name.toLowerCase())) {
      cached = this.load(listPage);
      this.byScope.set(scopeKey, cached);
      cached.catch(() => this.byScope.delete(scopeKey));
    }
    const id = (await cached!).ids.get(name.toLowerCase());
    if (id === undefined) throw new RunnerGroupNotFoundError(name, scopeKey);
    return id;
  }

  private async load(listPage: ListGroupsPage): Promise<{ ids: ReadonlyMap<string, number>; at: number }> {
    const ids = new Map<string, number>();
    for (let page = 1; ; page++) {
      const groups = await listPage(page);
      for (const group of groups) ids.set(group.name.toLowerCase(), group.id);
      if (groups.length < PAGE_SIZE) return { ids, at: this.now() };
    }
  }
}

export const RUNNER_GROUPS_PAGE_SIZE = PAGE_SIZE;
