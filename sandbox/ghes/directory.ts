// Who exists on the instance: the enterprise and its organizations, users, repositories, and the App's installations: on every
// account owning a repository from the start, or (an instance without an App) each one made by installing the App. Ids are
// assigned in order. A GHES instance has one enterprise account, and every organization on it belongs to it; its owners are the
// site administrators (https://docs.github.com/en/enterprise-server@3.19/admin/overview/about-enterprise-accounts).

import { GhesSimulatorError } from './errors';
import { SeededRandom } from '../common/random';

export interface Account {
  readonly login: string;
  readonly id: number;
  readonly nodeId: string;
  readonly type: 'Organization' | 'User';
}

export interface Repo {
  readonly owner: Account;
  readonly name: string;
  /** `owner/name` */
  readonly fullName: string;
  readonly id: number;
  readonly nodeId: string;
}

/** The instance's enterprise account: every organization is a member; `owners` are user logins (folded). */
export interface Enterprise {
  readonly slug: string;
  readonly id: number;
  readonly owners: ReadonlySet<string>;
}

export interface Installation {
  readonly id: number;
  readonly account: Account;
}

/** GitHub's legacy global node id: base64 of `<len>:<Type><id>`. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

/** `n` seeded hex digits, for secrets, SHAs and GUIDs a seed replays. */
export function randomHex(rng: SeededRandom, n: number): string {
  return Array.from({ length: n }, () => rng.integer(0, 15).toString(16)).join('');
}

/** Logins and repository names are case-insensitive on GitHub. */
const key = (s: string): string => s.toLowerCase();

export class Directory {
  readonly org: Account;
  readonly enterprise: Enterprise;
  readonly installations: Installation[] = [];
  private readonly accounts = new Map<string, Account>();
  private readonly repos = new Map<string, Repo>();
  /** Installation ids are never reused: an App installed again gets a new one. */
  private lastInstallationId = 0;

  /**
   * `repos`: names in the org, or `owner/name` (an owner among `orgs` is an organization, another one a user); `installed`: the App
   * is installed on every owner; `enterprise`: the enterprise's slug and its owners' logins.
   */
  constructor(
    org: string,
    repos: readonly string[],
    installed = true,
    orgs: readonly string[] = [],
    enterprise?: { readonly slug: string; readonly owners: readonly string[] },
  ) {
    this.org = this.account(org, 'Organization');
    for (const other of orgs) if (!this.accounts.has(key(other))) this.account(other, 'Organization');
    this.enterprise = { slug: enterprise?.slug ?? 'octo-enterprise', id: 1, owners: new Set((enterprise?.owners ?? ['ghes-admin']).map(key)) };
    for (const spec of repos) {
      const [owner, name] = spec.includes('/') ? spec.split('/', 2) : [org, spec];
      if (!owner || !name) throw new GhesSimulatorError(`repository "${spec}" must be "name" or "owner/name"`);
      const account = this.accounts.get(key(owner)) ?? this.account(owner, 'User');
      const id = 1001 + this.repos.size;
      const fullName = `${account.login}/${name}`;
      this.repos.set(key(fullName), { owner: account, name, fullName, id, nodeId: nodeId('Repository', id) });
      if (installed) this.install(account.login);
    }
  }

  /** Installs the App on an account, once; undefined for an unknown login. */
  install(login: string): Installation | undefined {
    const account = this.accounts.get(key(login));
    if (!account) return undefined;
    const existing = this.installationOf(login);
    if (existing) return existing;
    const installation = { id: ++this.lastInstallationId, account };
    this.installations.push(installation);
    return installation;
  }

  /** Removes the App's installation on an account (its owner uninstalled it); the removed one, if any. */
  uninstall(login: string): Installation | undefined {
    const index = this.installations.findIndex((i) => key(i.account.login) === key(login));
    return index < 0 ? undefined : this.installations.splice(index, 1)[0];
  }

  /** A user account, made on first use (the one a browser is signed in as). */
  user(login: string): Account {
    return this.accounts.get(key(login)) ?? this.account(login, 'User');
  }

  accountOf(login: string): Account | undefined {
    return this.accounts.get(key(login));
  }

  repo(owner: string, name: string): Repo | undefined {
    return this.repos.get(key(`${owner}/${name}`));
  }

  /** `owner/name` or a name in the organization; the simulator's caller must name a known one. */
  repoByFullName(fullName: string): Repo {
    const repo = this.repos.get(key(fullName.includes('/') ? fullName : `${this.org.login}/${fullName}`));
    if (!repo) throw new GhesSimulatorError(`unknown repository "${fullName}"; known: ${[...this.repos.values()].map((r) => r.fullName).join(', ')}`);
    return repo;
  }

  /** The installation on an account (organization or user login). */
  installationOf(login: string): Installation | undefined {
    return this.installations.find((i) => key(i.account.login) === key(login));
  }

  /** Whether `login` is an organization (each one a member of the enterprise). */
  isOrg(login: string): boolean {
    return this.accounts.get(key(login))?.type === 'Organization';
  }

  /** Whether `slug` names the instance's enterprise (slugs compare case-insensitively, as logins do). */
  isEnterprise(slug: string): boolean {
    return key(slug) === key(this.enterprise.slug);
  }

  private account(login: string, type: Account['type']): Account {
    const id = (type === 'Organization' ? 100 : 200) + this.accounts.size;
    const account: Account = { login, id, nodeId: nodeId(type, id), type };
    this.accounts.set(key(login), account);
    return account;
  }
}
