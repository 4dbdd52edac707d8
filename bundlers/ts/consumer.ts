// Uses every public name of the package, with the types it declares; compiled by
// bundlers/bundlers.test.mjs with `tsc --strict --noEmit` under moduleResolution `bundler`
// (tsconfig.bundler.json) and `node16` (tsconfig.node16.json). Never run.
import init, {
  App,
  Credentials,
  EmailPasswordAuth,
  PendingMerge,
  User,
  initSync,
  type AppConfiguration,
  type AuthProvider,
  type ChangeEvent,
  type ChangeKind,
  type ChangeListener,
  type FetchOptions,
  type GuestpassError,
  type InitInput,
  type InitOutput,
  type LogInOptions,
  type Persistence,
  type SyncInitInput,
  type UserIdentity,
  type UserProfile,
  type UserState,
} from "guestpass";

export async function everything(wasm: SyncInitInput, url: InitInput): Promise<string> {
  const output: InitOutput = await init({ module_or_path: url });
  const memory: WebAssembly.Memory = output.memory;
  initSync({ module: wasm });

  const config: AppConfiguration = {
    id: "my-app",
    baseUrl: "https://auth.example.com",
    storage: "session",
    expiryWarningSeconds: 3600,
  };
  const app = new App(config);
  const byId = new App("my-app");
  const appId: string = app.id;
  const persistence: Persistence = app.persistence;
  const fallbacks: ("web-locks" | "storage-persist")[] = app.fallbacks;
  const durable: boolean = persistence.durable && !persistence.fallback && persistence.storage === "local";

  const listener: ChangeListener = (event: ChangeEvent) => {
    const kind: ChangeKind = event.kind;
    if (event.kind === "identity-at-risk" && event.reason === "expiring") {
      const at: number = event.expiresAt;
      console.log(kind, at, event.user.id, event.remote);
    }
  };
  app.addListener(listener);
  app.removeListener(listener);

  const providers: AuthProvider[] = await app.getAuthProviders();
  const names: string[] = providers.map((p) => `${p.name}:${p.type}`);

  const anonymous = Credentials.anonymous();
  const reused = Credentials.anonymous(false);
  const jwt = Credentials.jwt("token");
  const email = Credentials.emailPassword("a@example.com", "a long password");
  const providerType: string = anonymous.providerType + reused.providerType + jwt.providerType;

  const user: User = await app.logIn(anonymous);
  const current: User | null = app.currentUser;
  const all: Record<string, User> = app.allUsers;
  app.switchUser(user);
  const persisted: boolean = await app.requestPersistentStorage();

  const auth: EmailPasswordAuth = app.emailPasswordAuth;
  await auth.registerUser({ email: "a@example.com", password: "a long password" });
  await auth.confirmUser({ token: "t", tokenId: "i" });
  await auth.resendConfirmationEmail({ email: "a@example.com" });
  await auth.sendResetPasswordEmail({ email: "a@example.com" });
  await auth.resetPassword({ token: "t", tokenId: "i", password: "another long password" });

  await user.linkCredentials(email);
  await user.refreshAccessToken();
  await user.refreshProfile();
  user.addListener(listener);
  user.removeListener(listener);
  const options: FetchOptions = { sendTokenToOtherOrigins: false };
  const response: Response = await user.fetch("/api/things", { method: "POST", body: "{}", ...options });
  const identities: UserIdentity[] = user.identities;
  const profile: UserProfile = user.profile;
  const state: UserState = user.state;
  const tokens: (string | null)[] = [user.accessToken, user.refreshToken];
  const details = [user.id, user.isAnonymous, user.providerType, profile.email, identities[0]?.providerType];
  const mergeOptions: LogInOptions = { mergeAnonymous: true };
  const account: User = await app.logIn(email, mergeOptions);
  const merge: PendingMerge | null = account.merge ?? app.pendingMerge;
  if (merge) {
    const named: string = `${merge.from} ${merge.into} ${merge.proof.length}`;
    console.log(named);
    await merge.complete();
    merge.abandon();
  }
  await user.logOut();
  await app.removeUser(user);
  await app.deleteUser(user);

  try {
    await app.logIn(jwt);
  } catch (error) {
    const e = error as GuestpassError;
    const described: string = `${e.name} ${e.code} ${e.status} ${e.retryAfter ?? 0} ${e.message}`;
    console.log(described);
  }

  {
    using disposed = Credentials.anonymous();
    console.log(disposed.providerType);
  }
  byId.free();
  return [memory.buffer.byteLength, appId, durable, fallbacks, names, providerType, current?.id, Object.keys(all), persisted,
    response.status, state, tokens, details].join();
}
