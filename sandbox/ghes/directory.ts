// Who exists on the simulated GHES instance: the organization, users, repositories and the App's
// installations. Fixed at construction; ids are assigned in order so a seed replays the same ids.
import { GhesSimulatorError } from './errors';

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

export interface Installation {
  readonly id: number;
  readonly account: Account;
  readonly selection: 'all' | 'selected';
  /** The repositories the installation can reach. */
  readonly repos: readonly Repo[];
}

export interface InstallationSpec {
  /** @default 1, 2, … in order */
  readonly id?: number;
  /** The organization or user login the App is installed on. */
  readonly account: string;
  /** Repository names (or `owner/name`) for a `selected` installation. @default all of the account's */
  readonly repositories?: readonly string[];
}

/** GitHub's legacy global node id: base64 of `<len>:<Type><id>`. */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

const key = (s: string): string => s.toLowerCase();

export class Directory {
  readonly org: Account;
  private readonly accounts = new Map<string, Account>();
  private readonly repoMap = new Map<string, Repo>();
  private readonly installationList: Installation[] = [];

  constructor(org: string, repos: readonly string[], installations?: readonly InstallationSpec[]) {
    this.org = this.account(org, 'Organization');
    for (const spec of repos) {
      const [owner, name] = spec.includes('/') ? spec.split('/', 2) : [org, spec];
      if (!owner || !name) throw new GhesSimulatorError(`repository "${spec}" must be "name" or "owner/name"`);
      const account = this.accounts.get(key(owner)) ?? this.account(owner, 'User');
      const id = 1001 + this.repoMap.size;
      this.repoMap.set(key(`${account.login}/${name}`), {
        owner: account,
        name,
        fullName: `${account.login}/${name}`,
        id,
        nodeId: nodeId('Repository', id),
      });
    }
    // By default the App is installed on every account that owns a repository, with all of its repos.
    const specs = installations ?? [...new Set(this.repos().map((r) => r.owner.login))].map((account) => ({ account }));
    specs.forEach((spec, index) => this.install(spec, index));
  }

  repos(): Repo[] {
    return [...this.repoMap.values()];
  }

  /** Owner and repository names are case-insensitive on GitHub. */
  repo(owner: string, name: string): Repo | undefined {
    return this.repoMap.get(key(`${owner}/${name}`));
  }

  repoByFullName(fullName: string): Repo {
    const repo = this.repoMap.get(key(fullName.includes('/') ? fullName : `${this.org.login}/${fullName}`));
    if (!repo) {
      throw new GhesSimulatorError(`unknown repository "${fullName}"; known: ${this.repos().map((r) => r.fullName).join(', ')}`);
    }
    return repo;
  }

  findAccount(login: string): Account | undefined {
    return this.accounts.get(key(login));
  }

  isOrg(login: string): boolean {
    return key(login) === key(this.org.login);
  }

  installations(): readonly Installation[] {
    return this.installationList;
  }

  installation(id: number): Installation | undefined {
    return this.installationList.find((i) => i.id === id);
  }

  installationForRepo(repo: Repo): Installation | undefined {
    return this.installationList.find((i) => i.repos.includes(repo));
  }

  installationForAccount(login: string): Installation | undefined {
    return this.installationList.find((i) => key(i.account.login) === key(login));
  }

  private account(login: string, type: Account['type']): Account {
    const id = type === 'Organization' ? 100 + this.accounts.size : 200 + this.accounts.size;
    const account: Account = { login, id, nodeId: nodeId(type, id), type };
    this.accounts.set(key(login), account);
    return account;
  }

  private install(spec: InstallationSpec, index: number): void {
    const account = this.accounts.get(key(spec.account));
    if (!account) throw new GhesSimulatorError(`installation on unknown account "${spec.account}"`);
    const owned = this.repos().filter((r) => r.owner === account);
    const repos = spec.repositories
      ? spec.repositories.map((name) => this.repoByFullName(name.includes('/') ? name : `${account.login}/${name}`))
      : owned;
    const id = spec.id ?? index + 1;
    if (this.installation(id)) throw new GhesSimulatorError(`two installations with id ${id}`);
    this.installationList.push({ id, account, selection: spec.repositories ? 'selected' : 'all', repos });
  }
}
