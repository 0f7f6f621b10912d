// openid-client (panva's certified RP, on oauth4webapi) against a running
// idledger as the OpenID Provider: discovery, the code flow with PKCE
// finished through the API as a login client would, ID token checks
// (signature against the JWKS, nonce, at_hash), every client
// authentication method, refresh rotation, client_credentials, the JWT
// profile with a machine key file, introspection, revocation, userinfo
// (also with a PAT), end session, and the refusals (code reuse, a
// redirect_uri that is not registered). Run from interop/: node --test
// (see lib/server.mjs for which server it uses).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPrivateKey, randomUUID } from "node:crypto";
import * as client from "openid-client";
import * as jose from "jose";
import { restClient, startIdledger } from "../lib/server.mjs";

const redirectURI = "https://app.example/cb";
const logoutURI = "https://app.example/bye";
const password = "Secr3t!pass";
const zitadelAud = "urn:zitadel:iam:org:project:id:zitadel:aud";
const insecure = { execute: [client.allowInsecureRequests] };

let server, rest, issuer, projectID, loginPAT, username, userID;
const apps = {};

before(async () => {
  server = await startIdledger();
  rest = restClient(server.url, server.token);
  issuer = new URL(server.url);
  const org = (await rest("GET", "/management/v1/orgs/me")).org.id;
  const tag = `${Date.now()}-${randomUUID().slice(0, 8)}`;
  projectID = (await rest("POST", "/management/v1/projects", { name: `openid-client-${tag}` })).id;
  const oidcApp = async (name, authMethodType) => {
    const a = await rest("POST", `/management/v1/projects/${projectID}/apps/oidc`, {
      name, redirectUris: [redirectURI], postLogoutRedirectUris: [logoutURI], authMethodType,
      grantTypes: ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"],
    });
    return { appId: a.appId, clientId: a.clientId, secret: a.clientSecret };
  };
  apps.basic = await oidcApp("basic", "OIDC_AUTH_METHOD_TYPE_BASIC");
  apps.post = await oidcApp("post", "OIDC_AUTH_METHOD_TYPE_POST");
  apps.none = await oidcApp("none", "OIDC_AUTH_METHOD_TYPE_NONE");
  apps.jwt = await oidcApp("jwt", "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT");
  const key = await rest("POST", `/management/v1/projects/${projectID}/apps/${apps.jwt.appId}/keys`, { type: "KEY_TYPE_JSON" });
  apps.jwt.keyFile = JSON.parse(Buffer.from(key.keyDetails, "base64").toString());
  const api = await rest("POST", `/management/v1/projects/${projectID}/apps/api`, { name: "api" });
  apps.api = { clientId: api.clientId, secret: api.clientSecret };

  username = `oc-${tag}`;
  userID = (await rest("POST", "/v2/users/human", {
    organization: { orgId: org }, username,
    profile: { givenName: "Olivia", familyName: "Client" }, email: { email: `${username}@example.com`, isVerified: true },
    password: { password, changeRequired: false },
  })).userId;
  const lc = (await rest("POST", "/management/v1/users/machine", { userName: `oc-login-${tag}`, name: "Login client" })).userId;
  loginPAT = (await rest("POST", `/management/v1/users/${lc}/pats`, {})).token;
  await rest("POST", "/admin/v1/members", { userId: lc, roles: ["IAM_LOGIN_CLIENT"] });
});

after(async () => {
  await server?.stop();
});

const configs = {
  basic: () => client.discovery(issuer, apps.basic.clientId, undefined, client.ClientSecretBasic(apps.basic.secret), insecure),
  post: () => client.discovery(issuer, apps.post.clientId, undefined, client.ClientSecretPost(apps.post.secret), insecure),
  none: () => client.discovery(issuer, apps.none.clientId, undefined, client.None(), insecure),
  jwt: async () => {
    const pkcs8 = createPrivateKey(apps.jwt.keyFile.key).export({ type: "pkcs8", format: "pem" });
    const key = await jose.importPKCS8(pkcs8, "RS256");
    return client.discovery(issuer, apps.jwt.keyFile.clientId, undefined, client.PrivateKeyJwt({ key, kid: apps.jwt.keyFile.keyId }), insecure);
  },
};

// login is the login UI for an auth request: a session with a password
// check, then CreateCallback; it returns the callback URL.
async function login(authRequestID) {
  const as = restClient(server.url, loginPAT);
  const s = await as("POST", "/v2/sessions", { checks: { user: { loginName: username }, password: { password } } });
  const cb = await as("POST", `/v2/oidc/auth_requests/${authRequestID}`, {
    session: { sessionId: s.sessionId, sessionToken: s.sessionToken },
  });
  return new URL(cb.callbackUrl);
}

// codeFlow runs authorize → login → code exchange with PKCE, state and
// nonce, and returns the tokens, the callback URL and the checks.
async function codeFlow(config, scope = "openid profile email offline_access") {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier, expectedNonce: client.randomNonce(), expectedState: client.randomState() };
  const u = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectURI, scope, nonce: checks.expectedNonce, state: checks.expectedState,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier), code_challenge_method: "S256",
  });
  const r = await fetch(u, { redirect: "manual" });
  assert.equal(r.status, 302, await r.text());
  const loc = new URL(r.headers.get("location"), server.url);
  const id = loc.searchParams.get("authRequest");
  assert.match(id ?? "", /^V2_/, loc.href);
  const callback = await login(id);
  assert.equal(callback.origin + callback.pathname, redirectURI);
  assert.equal(callback.searchParams.get("state"), checks.expectedState);
  const tokens = await client.authorizationCodeGrant(config, callback, checks);
  return { tokens, callback, checks };
}

// rejects asserts that promise fails with the OAuth error code error: in
// the error body, or (a 401 whose WWW-Authenticate challenge openid-client
// reports first) in the response's JSON body.
async function rejects(promise, error) {
  try {
    await promise;
  } catch (err) {
    let code = err.error ?? err.cause?.error;
    if (code === undefined && err instanceof client.WWWAuthenticateChallengeError) {
      assert.equal(err.status, 401);
      code = (await err.response.json()).error;
    }
    assert.equal(code, error, `${err.name}: ${err.message}`);
    return;
  }
  assert.fail(`the request succeeded; want ${error}`);
}

describe("openid-client as a relying party", () => {
  it("discovers the issuer's metadata", async () => {
    const m = (await configs.basic()).serverMetadata();
    assert.equal(m.issuer, server.url);
    for (const k of ["authorization_endpoint", "token_endpoint", "introspection_endpoint", "revocation_endpoint",
      "userinfo_endpoint", "end_session_endpoint", "jwks_uri"]) assert.ok(m[k]?.startsWith(server.url), k);
    for (const a of ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"]) {
      assert.ok(m.token_endpoint_auth_methods_supported.includes(a), a);
    }
    assert.ok(m.code_challenge_methods_supported.includes("S256"));
  });

  for (const method of ["basic", "post", "none", "jwt"]) {
    it(`runs the code flow with PKCE, client auth ${method}`, async () => {
      const config = await configs[method]();
      const clientId = config.clientMetadata().client_id;
      const { tokens, checks } = await codeFlow(config);
      const claims = tokens.claims();
      assert.equal(claims.sub, userID);
      assert.equal(claims.nonce, checks.expectedNonce);
      assert.ok(claims.aud.includes(clientId) && claims.aud.includes(projectID), JSON.stringify(claims.aud));
      // The ID token's signature against the JWKS, and at_hash.
      const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
      const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, { issuer: server.url, audience: clientId });
      assert.ok(protectedHeader.kid);
      const digest = createHash("sha256").update(tokens.access_token).digest();
      assert.equal(payload.at_hash, digest.subarray(0, digest.length / 2).toString("base64url"));
      const ui = await client.fetchUserInfo(config, tokens.access_token, userID);
      assert.equal(ui.preferred_username, username);
      assert.equal(ui.email, `${username}@example.com`);
    });
  }

  it("rotates refresh tokens; a reused one revokes the session", async () => {
    const config = await configs.basic();
    const { tokens } = await codeFlow(config);
    assert.ok(tokens.refresh_token);
    const next = await client.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(next.refresh_token && next.refresh_token !== tokens.refresh_token);
    await client.fetchUserInfo(config, next.access_token, userID);
    await rejects(client.refreshTokenGrant(config, tokens.refresh_token), "invalid_grant");
    await rejects(client.refreshTokenGrant(config, next.refresh_token), "invalid_grant");
    await assert.rejects(client.fetchUserInfo(config, next.access_token, userID));
  });

  it("refuses a reused code", async () => {
    const config = await configs.post();
    const { callback, checks } = await codeFlow(config);
    await rejects(client.authorizationCodeGrant(config, callback, checks), "invalid_grant");
  });

  it("never redirects to a redirect_uri that is not registered", async () => {
    const config = await configs.basic();
    const u = client.buildAuthorizationUrl(config, {
      redirect_uri: "https://evil.example/cb", scope: "openid", state: "s",
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256",
    });
    const r = await fetch(u, { redirect: "manual" });
    assert.ok(!(r.headers.get("location") ?? "").includes("evil.example"), r.headers.get("location"));
    assert.ok(r.status >= 400 || r.status === 302, `${r.status}`);
  });

  it("introspects with an API app, and revocation makes the token inactive", async () => {
    const config = await configs.basic();
    const { tokens } = await codeFlow(config);
    const api = await client.discovery(issuer, apps.api.clientId, undefined, client.ClientSecretBasic(apps.api.secret), insecure);
    const active = await client.tokenIntrospection(api, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.sub, userID);
    await client.tokenRevocation(config, tokens.access_token);
    assert.equal((await client.tokenIntrospection(api, tokens.access_token)).active, false);
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, userID));
  });

  it("introspects and revokes with private_key_jwt", async () => {
    const config = await configs.jwt();
    const { tokens } = await codeFlow(config);
    const api = await client.discovery(issuer, apps.api.clientId, undefined, client.ClientSecretBasic(apps.api.secret), insecure);
    assert.equal((await client.tokenIntrospection(api, tokens.access_token)).active, true);
    // An assertion signed by another key under the app's kid: invalid_client.
    const { privateKey } = await jose.generateKeyPair("RS256");
    const forged = await client.discovery(issuer, apps.jwt.keyFile.clientId, undefined,
      client.PrivateKeyJwt({ key: privateKey, kid: apps.jwt.keyFile.keyId }), insecure);
    await rejects(client.tokenRevocation(forged, tokens.access_token), "invalid_client");
    assert.equal((await client.tokenIntrospection(api, tokens.access_token)).active, true);
    await client.tokenRevocation(config, tokens.access_token);
    assert.equal((await client.tokenIntrospection(api, tokens.access_token)).active, false);
  });

  it("answers userinfo for a personal access token", async () => {
    const config = await configs.basic();
    const me = (await rest("GET", "/auth/v1/users/me")).user.id;
    const ui = await client.fetchUserInfo(config, server.token, me);
    assert.equal(ui.sub, me);
  });

  it("ends the session with id_token_hint and a registered post-logout URI", async () => {
    const config = await configs.basic();
    const { tokens } = await codeFlow(config);
    const u = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: logoutURI, state: "bye" });
    const r = await fetch(u, { redirect: "manual" });
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get("location"));
    assert.equal(loc.origin + loc.pathname, logoutURI);
    assert.equal(loc.searchParams.get("state"), "bye");
  });

  it("issues tokens by client_credentials to a machine user with a secret", async () => {
    const name = `oc-svc-${Date.now()}`;
    const id = (await rest("POST", "/management/v1/users/machine", { userName: name, name })).userId;
    const { clientSecret } = await rest("PUT", `/management/v1/users/${id}/secret`, {});
    const config = await client.discovery(issuer, name, undefined, client.ClientSecretBasic(clientSecret), insecure);
    const tokens = await client.clientCredentialsGrant(config, { scope: `openid ${zitadelAud}` });
    assert.ok(tokens.access_token);
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, id)).sub, id);
    const wrong = await client.discovery(issuer, name, undefined, client.ClientSecretBasic("nope"), insecure);
    await rejects(client.clientCredentialsGrant(wrong, { scope: "openid" }), "invalid_client");
  });

  it("issues tokens by the JWT profile grant with a machine key file", async () => {
    const name = `oc-robot-${Date.now()}`;
    const id = (await rest("POST", "/management/v1/users/machine", { userName: name, name })).userId;
    const k = await rest("POST", `/management/v1/users/${id}/keys`, { type: "KEY_TYPE_JSON" });
    const file = JSON.parse(Buffer.from(k.keyDetails, "base64").toString());
    assert.equal(file.type, "serviceaccount");
    const sign = (aud) => new jose.SignJWT({}).setProtectedHeader({ alg: "RS256", kid: file.keyId })
      .setIssuer(file.userId).setSubject(file.userId).setAudience(aud).setIssuedAt().setExpirationTime("5m")
      .sign(createPrivateKey(file.key));
    const config = await client.discovery(issuer, id, undefined, client.None(), insecure);
    const grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    const tokens = await client.genericGrantRequest(config, grant, { assertion: await sign(server.url), scope: `openid ${zitadelAud}` });
    assert.equal((await client.fetchUserInfo(config, tokens.access_token, id)).sub, id);
    await assert.rejects(client.genericGrantRequest(config, grant, { assertion: await sign("https://elsewhere.example"), scope: "openid" }));
  });
});
