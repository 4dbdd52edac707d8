// Three mistakes the package's types must refuse; bundlers/bundlers.test.mjs asserts that tsc
// reports exactly the error after `// expect` on each marked line, and nothing else.
import { App, Credentials, type ChangeEvent } from "guestpass";

export async function misuse(): Promise<void> {
  // A wrong option name (baseURL for baseUrl).
  const app = new App({ id: "my-app", baseURL: "https://auth.example.com" }); // expect TS2561
  const user = await app.logIn(Credentials.anonymous());
  // A User method that does not exist (realm-web's callFunction).
  await user.callFunction("sum", 1, 2); // expect TS2339
  // A wrong event kind ("signin" is none of ChangeKind).
  app.addListener((event: ChangeEvent) => {
    if (event.kind === "signin") console.log("signed in"); // expect TS2367
  });
}
