// ZITADEL's own npm clients against a running idledger: every client
// flavour (lib/clients.mjs) calls the same methods, and each answer is
// checked against what was seeded and against REST's answer to the same
// request. Run from interop/: node --test (see lib/server.mjs for which
// server it uses).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { restClient, startIdledger } from "../lib/server.mjs";
import { Code, RPCFailure, flavours } from "../lib/clients.mjs";

let server, rest, instanceID, adminUserID, weakPAT, orgOwnerPAT;

before(async () => {
  server = await startIdledger();
  rest = restClient(server.url, server.token);
  adminUserID = (await rest("GET", "/auth/v1/users/me")).user.id;
  // A machine user with a token and no membership anywhere.
  const org = (await rest("POST", "/v2/organizations", { name: `interop-norights-${Date.now()}` })).organizationId;
  const bot = (await rest("POST", "/management/v1/users/machine", { userName: "interop-norights", name: "No rights" },
    { "x-zitadel-orgid": org })).userId;
  weakPAT = (await rest("POST", `/management/v1/users/${bot}/pats`, {}, { "x-zitadel-orgid": org })).token;
  // A machine user holding ORG_OWNER of its own org, and nothing on the instance.
  const owner = (await rest("POST", "/management/v1/users/machine", { userName: "interop-orgowner", name: "Org owner" },
    { "x-zitadel-orgid": org })).userId;
  orgOwnerPAT = (await rest("POST", `/management/v1/users/${owner}/pats`, {}, { "x-zitadel-orgid": org })).token;
  await rest("POST", "/management/v1/orgs/me/members", { userId: owner, roles: ["ORG_OWNER"] }, { "x-zitadel-orgid": org });
});

after(async () => {
  await server?.stop();
});

// norm makes REST's and a client's protojson comparable: timestamps cut to
// milliseconds (ts-proto, under @zitadel/node, holds them as Date).
function norm(v) {
  if (typeof v === "string") return v.replace(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/, (_, s, f = "") => `${s}.${(f + "000").slice(0, 3)}Z`);
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

// pick returns the named fields of o.
const pick = (o, ...keys) => Object.fromEntries(keys.map((k) => [k, o?.[k]]));

// rpcError calls and returns the RPCFailure; it fails when the call succeeds.
async function rpcError(promise) {
  try {
    const res = await promise;
    assert.fail(`the call succeeded: ${JSON.stringify(res)}`);
  } catch (err) {
    if (!(err instanceof RPCFailure)) throw err;
    return err;
  }
}

// restError returns REST's error body for a request that must fail.
async function restError(method, path, token, body) {
  const r = await fetch(server.url + path, {
    method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.status >= 400, `REST ${method} ${path} answered ${r.status}`);
  return r.json();
}

function sameErrorAsREST(got, want, code) {
  assert.equal(got.code, code, got.message);
  assert.equal(want.code, code, JSON.stringify(want));
  assert.equal(got.rpcMessage, want.message);
  assert.equal(got.id, want.details?.[0]?.id);
  assert.ok(got.id, "the error carries a zitadel.v1.ErrorDetail");
}

flavours.forEach((flavour, i) => {
  describe(flavour.name, () => {
    let c, s;
    const tag = `${i}-${Date.now()}`;

    before(async () => {
      c = flavour.connect(server.url, server.token);
      // Per flavour: an org with its own login policy and OIDC IdP, a user
      // in it, and an instance Google IdP.
      const org = (await rest("POST", "/v2/organizations", { name: `interop-${tag}` })).organizationId;
      const h = { "x-zitadel-orgid": org };
      await rest("POST", "/management/v1/policies/login", { allowUsernamePassword: true, allowExternalIdp: true }, h);
      const google = await rest("POST", "/admin/v1/idps/google", {
        name: `Google ${tag}`, clientId: `google-client-${tag}`, clientSecret: "google-secret-value",
        scopes: ["openid", "email"], providerOptions: { isLinkingAllowed: true, isCreationAllowed: true },
      });
      instanceID = google.details.resourceOwner;
      const orgIdp = (await rest("POST", "/management/v1/idps/generic_oidc", {
        name: `Corp ${tag}`, issuer: "https://corp.example.com", clientId: `corp-${tag}`, clientSecret: "corp-secret-value", scopes: ["openid"],
      }, h)).id;
      const user = (await rest("POST", "/v2/users/human", {
        organization: { orgId: org }, username: `interop-user-${tag}`,
        profile: { givenName: "Inter", familyName: "Op" }, email: { email: `interop-${tag}@example.com`, isVerified: true },
      })).userId;
      s = { org, google: google.id, orgIdp, user };
    });

    after(() => c?.close());

    it("IdentityProviderService.GetIDPByID returns the IdP, as REST does", async () => {
      const got = await c.call("idp", "getIDPByID", { id: s.google });
      const idp = got.idp;
      assert.deepEqual(pick(idp, "id", "name", "state", "type"), { id: s.google, name: `Google ${tag}`, state: "IDP_STATE_ACTIVE", type: "IDP_TYPE_GOOGLE" });
      assert.equal(idp.details.resourceOwner, instanceID);
      assert.deepEqual(idp.config.google, { clientId: `google-client-${tag}`, scopes: ["openid", "email"] });
      assert.deepEqual(pick(idp.config.options, "isLinkingAllowed", "isCreationAllowed"), { isLinkingAllowed: true, isCreationAllowed: true });
      assert.doesNotMatch(JSON.stringify(got), /secret-value/);
      assert.deepEqual(norm(got), norm(await rest("GET", `/v2/idps/${s.google}`)));
    });

    it("AdminService.AddIDPToLoginPolicy adds an instance IdP to the default policy", async () => {
      const got = await c.call("admin", "addIDPToLoginPolicy", { idpId: s.google });
      assert.equal(got.details.resourceOwner, instanceID);
      assert.ok(Number(got.details.sequence) > 0, JSON.stringify(got));
      const list = await rest("POST", "/admin/v1/policies/login/idps/_search", { query: { limit: 1000 } });
      assert.ok(list.result.some((r) => r.idpId === s.google), JSON.stringify(list));
    });

    it("ManagementService.AddIDPToLoginPolicy with x-zitadel-orgid adds an org IdP to that org's policy", async () => {
      const got = await c.call("mgmt", "addIDPToLoginPolicy", { idpId: s.orgIdp, ownerType: "IDP_OWNER_TYPE_ORG" }, { orgId: s.org });
      assert.equal(got.details.resourceOwner, s.org);
      assert.ok(Number(got.details.sequence) > 0, JSON.stringify(got));
      const list = await rest("POST", "/management/v1/policies/login/idps/_search", {}, { "x-zitadel-orgid": s.org });
      assert.deepEqual(list.result.map((r) => r.idpId), [s.orgIdp]);
    });

    it("UserService (v2) AddIDPLink, ListIDPLinks, RemoveIDPLink", async () => {
      const link = { idpId: s.google, userId: `ext-${tag}`, userName: `ext-${tag}@gmail.com` };
      const added = await c.call("user", "addIDPLink", { userId: s.user, idpLink: link });
      assert.equal(added.details.resourceOwner, s.org);

      const listed = await c.call("user", "listIDPLinks", { userId: s.user, query: { limit: 10 } });
      assert.deepEqual(listed.result, [link]);
      assert.equal(listed.details.totalResult, "1");
      const viaREST = await rest("POST", `/v2/users/${s.user}/links/_search`, { query: { limit: 10 } });
      // details.timestamp is the time of each query.
      assert.deepEqual(listed.result, viaREST.result);
      assert.equal(listed.details.totalResult, viaREST.details.totalResult);

      const removed = await c.call("user", "removeIDPLink", { userId: s.user, idpId: s.google, linkedUserId: link.userId });
      assert.equal(removed.details.resourceOwner, s.org);
      const after = await c.call("user", "listIDPLinks", { userId: s.user });
      assert.deepEqual(after.result ?? [], []);
      assert.deepEqual((await rest("POST", `/v2/users/${s.user}/links/_search`, {})).result ?? [], []);
    });

    it("UserService (v2beta) AddIDPLink", async () => {
      const link = { idpId: s.google, userId: `beta-${tag}`, userName: `beta-${tag}@gmail.com` };
      const added = await c.call("userBeta", "addIDPLink", { userId: s.user, idpLink: link });
      assert.equal(added.details.resourceOwner, s.org);
      assert.ok(Number(added.details.sequence) > 0, JSON.stringify(added));
      const viaREST = await rest("POST", `/v2/users/${s.user}/links/_search`, {});
      assert.deepEqual(viaREST.result.filter((l) => l.userId === link.userId), [link]);
    });

    it("AdminService.AddGenericOIDCProvider, then GetProviderByID reads it back, as REST does", async () => {
      const added = await c.call("admin", "addGenericOIDCProvider", {
        name: `OIDC ${tag}`, issuer: `https://issuer-${tag}.example.com`, clientId: `oidc-${tag}`, clientSecret: "oidc-secret-value",
        scopes: ["openid", "profile"], providerOptions: { isLinkingAllowed: true, isAutoCreation: true },
      });
      assert.match(added.id, /^\d+$/);
      assert.equal(added.details.resourceOwner, instanceID);

      const got = await c.call("admin", "getProviderByID", { id: added.id });
      const idp = got.idp;
      assert.deepEqual(pick(idp, "id", "name", "state", "owner", "type"),
        { id: added.id, name: `OIDC ${tag}`, state: "IDP_STATE_ACTIVE", owner: "IDP_OWNER_TYPE_SYSTEM", type: "PROVIDER_TYPE_OIDC" });
      assert.deepEqual(idp.config.oidc, { issuer: `https://issuer-${tag}.example.com`, clientId: `oidc-${tag}`, scopes: ["openid", "profile"] });
      assert.deepEqual(pick(idp.config.options, "isLinkingAllowed", "isAutoCreation"), { isLinkingAllowed: true, isAutoCreation: true });
      assert.doesNotMatch(JSON.stringify(got), /secret-value/);
      assert.deepEqual(norm(got), norm(await rest("GET", `/admin/v1/idps/templates/${added.id}`)));
    });

    it("ManagementService.AddGenericOIDCProvider and GetProviderByID with x-zitadel-orgid", async () => {
      const added = await c.call("mgmt", "addGenericOIDCProvider", {
        name: `Org OIDC ${tag}`, issuer: "https://org-issuer.example.com", clientId: `org-oidc-${tag}`, clientSecret: "x-secret-value", scopes: ["openid"],
      }, { orgId: s.org });
      assert.equal(added.details.resourceOwner, s.org);
      const got = await c.call("mgmt", "getProviderByID", { id: added.id }, { orgId: s.org });
      assert.equal(got.idp.owner, "IDP_OWNER_TYPE_ORG");
      assert.equal(got.idp.details.resourceOwner, s.org);
      assert.equal(got.idp.config.oidc.clientId, `org-oidc-${tag}`);
      assert.deepEqual(norm(got), norm(await rest("GET", `/management/v1/idps/templates/${added.id}`, undefined, { "x-zitadel-orgid": s.org })));
    });

    it("ManagementService.AddProject and AddOIDCApp with x-zitadel-orgid, read back as REST does", async () => {
      const project = await c.call("mgmt", "addProject", { name: `Project ${tag}`, projectRoleAssertion: true }, { orgId: s.org });
      assert.match(project.id, /^\d+$/);
      assert.equal(project.details.resourceOwner, s.org);
      const app = await c.call("mgmt", "addOIDCApp", {
        projectId: project.id, name: `App ${tag}`, redirectUris: ["https://app.example/cb"],
        responseTypes: ["OIDC_RESPONSE_TYPE_CODE"], grantTypes: ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
        appType: "OIDC_APP_TYPE_WEB", authMethodType: "OIDC_AUTH_METHOD_TYPE_BASIC",
      }, { orgId: s.org });
      assert.match(app.appId, /^\d+$/);
      assert.ok(app.clientId, JSON.stringify(app));
      assert.equal(app.clientSecret.length, 64);
      const h = { "x-zitadel-orgid": s.org };
      const got = await c.call("mgmt", "getAppByID", { projectId: project.id, appId: app.appId }, { orgId: s.org });
      assert.equal(got.app.oidcConfig.clientId, app.clientId);
      assert.doesNotMatch(JSON.stringify(got), new RegExp(app.clientSecret));
      const viaREST = await rest("GET", `/management/v1/projects/${project.id}/apps/${app.appId}`, undefined, h);
      // ts-proto (@zitadel/node) renders a zero Duration as {}, not "0s".
      for (const a of [got, viaREST]) delete a.app.oidcConfig.clockSkew;
      assert.deepEqual(norm(got), norm(viaREST));
      const err = await rpcError(c.call("mgmt", "getProjectByID", { id: "nope" }, { orgId: s.org }));
      sameErrorAsREST(err, await restError("GET", "/management/v1/projects/nope", server.token), Code.NOT_FOUND);
    });

    it("OIDCService.GetAuthRequest and CreateCallback, as a login UI calls them", async () => {
      const h = { "x-zitadel-orgid": s.org };
      const project = await rest("POST", "/management/v1/projects", { name: `interop-login-${tag}` }, h);
      const app = await rest("POST", `/management/v1/projects/${project.id}/apps/oidc`, {
        name: "web", redirectUris: ["https://app.example/cb"], grantTypes: ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
      }, h);
      const authorize = async () => {
        const q = new URLSearchParams({ client_id: app.clientId, redirect_uri: "https://app.example/cb", response_type: "code",
          scope: "openid", state: `st-${tag}`, code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" });
        const r = await fetch(`${server.url}/oauth/v2/authorize?${q}`, { redirect: "manual" });
        const id = new URL(r.headers.get("location"), server.url).searchParams.get("authRequest");
        assert.match(id ?? "", /^V2_/, `authorize: ${r.status} ${r.headers.get("location")}`);
        return id;
      };
      const id = await authorize();
      const got = await c.call("oidc", "getAuthRequest", { authRequestId: id });
      assert.deepEqual(pick(got.authRequest, "id", "clientId", "redirectUri"), { id, clientId: app.clientId, redirectUri: "https://app.example/cb" });
      assert.deepEqual(norm(got), norm(await rest("GET", `/v2/oidc/auth_requests/${id}`)));
      // CreateCallback needs session.link (IAM_LOGIN_CLIENT), which even
      // the instance owner lacks.
      const body = { error: { error: "ERROR_REASON_ACCESS_DENIED" } };
      const err = await rpcError(c.call("oidc", "createCallback", { authRequestId: id, ...body }));
      sameErrorAsREST(err, await restError("POST", `/v2/oidc/auth_requests/${id}`, server.token, body), Code.PERMISSION_DENIED);
      const unknown = await rpcError(c.call("oidc", "getAuthRequest", { authRequestId: "V2_404" }));
      sameErrorAsREST(unknown, await restError("GET", "/v2/oidc/auth_requests/V2_404", server.token), Code.NOT_FOUND);
    });

    it("AdminService.ListEvents returns the IdP's events, as REST does", async () => {
      const filter = { aggregateTypes: ["idp"], aggregateId: s.google, asc: true, limit: 10 };
      const got = await c.call("admin", "listEvents", filter);
      assert.ok(got.events?.length >= 1, JSON.stringify(got));
      const first = got.events[0];
      assert.equal(first.type.type, "idp.added");
      assert.deepEqual(first.aggregate, {
        id: s.google, resourceOwner: instanceID,
        type: { type: "idp", localized: { key: "AggregateTypes.idp", localizedMessage: "Identity Provider" } },
      });
      assert.equal(first.editor.userId, adminUserID);
      assert.equal(first.sequence, "1");
      assert.deepEqual(pick(first.payload, "name", "kind", "ownerType"), { name: `Google ${tag}`, kind: "google", ownerType: "system" });
      assert.doesNotMatch(JSON.stringify(got), /secret-value/);
      // REST adds fields ZITADEL's Event has not (position, clientIp,
      // userAgent); the rest is the same.
      const viaREST = (await rest("POST", "/admin/v1/events/_search", filter)).events.map(({ position, clientIp, userAgent, ...e }) => e);
      assert.deepEqual(norm(got.events), norm(viaREST));
    });

    // failsAsREST calls method as token and expects the error REST gives
    // for the same request (restCall: method, path, body), with code.
    async function failsAsREST(token, svc, method, req, restCall, code) {
      const client = token === server.token ? c : flavour.connect(server.url, token);
      try {
        const err = await rpcError(client.call(svc, method, req));
        sameErrorAsREST(err, await restError(restCall[0], restCall[1], token, restCall[2]), code);
        return err;
      } finally {
        if (client !== c) client.close();
      }
    }

    it("NOT_FOUND for an unknown IdP ID, with REST's message and error ID", async () => {
      const err = await failsAsREST(server.token, "idp", "getIDPByID", { id: "404404404404" }, ["GET", "/v2/idps/404404404404"], Code.NOT_FOUND);
      assert.equal(err.id, "QUERY-SAFrt");
    });

    it("UNAUTHENTICATED for a bad token", async () => {
      await failsAsREST("not-a-valid-token", "idp", "getIDPByID", { id: s.google }, ["GET", `/v2/idps/${s.google}`], Code.UNAUTHENTICATED);
    });

    it("PERMISSION_DENIED for GetIDPByID by a machine user without any membership", async () => {
      await failsAsREST(weakPAT, "idp", "getIDPByID", { id: s.google }, ["GET", `/v2/idps/${s.google}`], Code.PERMISSION_DENIED);
    });

    it("PERMISSION_DENIED for AdminService calls by an org owner without instance rights", async () => {
      await failsAsREST(orgOwnerPAT, "admin", "addIDPToLoginPolicy", { idpId: s.google },
        ["POST", "/admin/v1/policies/login/idps", { idpId: s.google }], Code.PERMISSION_DENIED);
      await failsAsREST(orgOwnerPAT, "admin", "listEvents", { limit: 1 }, ["POST", "/admin/v1/events/_search", { limit: 1 }], Code.PERMISSION_DENIED);
    });

    it("NOT_FOUND (membership not found) for an AdminService call by a user without any membership, as ZITADEL answers", async () => {
      const err = await failsAsREST(weakPAT, "admin", "addIDPToLoginPolicy", { idpId: s.google },
        ["POST", "/admin/v1/policies/login/idps", { idpId: s.google }], Code.NOT_FOUND);
      assert.equal(err.id, "AUTHZ-cdgFk");
    });
  });
});
