// GitHub account and repository names as they may appear in keys, pool ids and messages. Checked
// before use, so a hostile payload cannot smuggle `#`, `/`, whitespace or look-alike letters into them.

// Logins: letters, digits, hyphens; underscores occur in Enterprise Managed User logins
// (`name_shortcode`). GitHub caps logins at 39 characters; the bound here is looser on purpose.
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
// Repository names: letters, digits, `.`, `-`, `_`, at most 100 characters; `.` and `..` are reserved.
const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export function isValidLogin(login: unknown): login is string {
  return typeof login === 'string' && LOGIN.test(login);
}

export function isValidRepoName(name: unknown): name is string {
  return typeof name === 'string' && REPO_NAME.test(name) && name !== '.' && name !== '..';
}

/** GitHub compares account and repository names case-insensitively; both are ASCII once validated. */
export function foldName(name: string): string {
  return name.toLowerCase();
}
