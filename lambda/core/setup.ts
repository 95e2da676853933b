// The ports of the setup page (the GitHub App manifest flow) and of the setup token: where the App's
// credentials are stored, and the GitHub server that creates the App.

/** What the functions need of the App, as the setup page stores it. */
export interface AppCredentials {
  readonly appId: string;
  readonly privateKeyPem: string;
  readonly webhookSecret: string;
}

/** The App GitHub created from the manifest, as `POST /app-manifests/{code}/conversions` answers. */
export interface CreatedApp {
  readonly appId: string;
  readonly slug: string;
  readonly name: string;
  /** The App's page, e.g. `https://ghes.example.com/github-apps/runners`; installing is `<htmlUrl>/installations/new`. */
  readonly htmlUrl: string;
  readonly ownerLogin: string;
  readonly privateKeyPem: string;
  /** GitHub creates one for the App; the schema allows none. */
  readonly webhookSecret: string | null;
}

/** The App credentials' parameters and the setup token's. */
export interface AppCredentialStore {
  /** The SHA-256 (hex) of the setup token; undefined once setup stored credentials (or before deploy made one). */
  tokenHash(): Promise<string | undefined>;
  /** The names of the credential parameters that exist. */
  existingCredentials(): Promise<string[]>;
  /** Stores the three, overwriting none: throws {@link CredentialsExistError} (having undone its own writes) when one exists. */
  storeCredentials(credentials: AppCredentials): Promise<void>;
  /** Ends the token: setup cannot run again until an operator resets it. */
  deleteToken(): Promise<void>;
}

/** What the server says of an account name, when it says anything (a server in private mode answers anonymous calls with 401). */
export type OwnerLookup = { readonly isOrganization: boolean } | 'not-found' | 'unknown';

/** The GitHub server, as the setup page calls it. */
export interface AppRegistrar {
  lookupOwner(login: string): Promise<OwnerLookup>;
  /** Throws {@link ManifestCodeError} when the server does not know the code (expired, used, or never issued). */
  convertManifestCode(code: string): Promise<CreatedApp>;
  /** Sets the App's webhook secret (with the App's own JWT), for an App GitHub created without one. */
  setWebhookSecret(app: { readonly appId: string; readonly privateKeyPem: string }, secret: string): Promise<void>;
}

/** The server refused a manifest code: it expired (an hour), was used already, or was never issued. */
export class ManifestCodeError extends Error {
  public readonly name = 'ManifestCodeError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Credentials exist already: setup overwrites none. */
export class CredentialsExistError extends Error {
  public readonly name = 'CredentialsExistError';

  constructor(readonly parameterNames: readonly string[]) {
    super(`the App's credentials exist already (${parameterNames.join(', ')})`);
  }
}

/** The setup token's parameter, as the custom resource keeps it. */
export interface SetupTokenStore {
  putTokenHash(hash: string): Promise<void>;
  /** Deletes the token and the App's credentials; a parameter already gone is no error. */
  deleteAll(): Promise<void>;
}
