// The five client flavours the interop tests drive, each built the way
// ZITADEL's users build them:
//
//   - @zitadel/client's Node transport (createServerTransport: gRPC over h2c)
//   - @zitadel/client's web transport (createClientTransport: gRPC-Web over
//     HTTP/1.1 fetch)
//   - connect-es's Connect transport in JSON and in binary, with an
//     Authorization interceptor
//   - @zitadel/node (nice-grpc over grpc-js, gRPC over h2c), whose
//     createUserClient targets zitadel.user.v2beta
//
// Every flavour offers the same small surface, so one test body runs on
// all of them: call(service, method, requestJSON, { orgId }) sends the
// request (parsed from protojson by the flavour's own message code),
// returns the response as protojson, and throws an RPCFailure { code,
// message, id } on an error (code: the gRPC status number; message: the
// status message; id: the zitadel.v1.ErrorDetail's ID, when one was sent).
// The services are "admin", "mgmt", "idp" (v2), "user" (v2), "userBeta"
// and "oidc" (v2, the auth requests of a login UI).
import { createClient, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { fromBinary, fromJson, toJson } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { createClientFor } from "@zitadel/client";
import { createServerTransport } from "@zitadel/client/node";
import { createClientTransport } from "@zitadel/client/web";
import { createAdminServiceClient, createManagementServiceClient } from "@zitadel/client/v1";
import { createIdpServiceClient, createOIDCServiceClient, createUserServiceClient } from "@zitadel/client/v2";
import { AdminService } from "@zitadel/proto/zitadel/admin_pb.js";
import { ManagementService } from "@zitadel/proto/zitadel/management_pb.js";
import { IdentityProviderService } from "@zitadel/proto/zitadel/idp/v2/idp_service_pb.js";
import { UserService as UserServiceV2 } from "@zitadel/proto/zitadel/user/v2/user_service_pb.js";
import { UserService as UserServiceV2beta } from "@zitadel/proto/zitadel/user/v2beta/user_service_pb.js";
import { OIDCService } from "@zitadel/proto/zitadel/oidc/v2/oidc_service_pb.js";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import {
  createAccessTokenInterceptor,
  createAdminClient,
  createManagementClient,
  createUserClient,
} from "@zitadel/node/dist/api/index.js";
import { AdminServiceDefinition } from "@zitadel/node/dist/api/generated/zitadel/admin.js";
import { ManagementServiceDefinition } from "@zitadel/node/dist/api/generated/zitadel/management.js";
import { IdentityProviderServiceDefinition } from "@zitadel/node/dist/api/generated/zitadel/idp/v2/idp_service.js";
import { UserServiceDefinition as UserV2Definition } from "@zitadel/node/dist/api/generated/zitadel/user/v2/user_service.js";
import { UserServiceDefinition as UserV2betaDefinition } from "@zitadel/node/dist/api/generated/zitadel/user/v2beta/user_service.js";
import { OIDCServiceDefinition } from "@zitadel/node/dist/api/generated/zitadel/oidc/v2/oidc_service.js";
import { ClientError, Metadata, createChannel, createClientFactory } from "nice-grpc";

export class RPCFailure extends Error {
  constructor(code, message, id) {
    super(`RPC error ${code}: ${message}${id ? ` [detail ${id}]` : ""}`);
    this.code = code;
    this.rpcMessage = message;
    this.id = id;
  }
}

// The gRPC codes the tests look for.
export const Code = { NOT_FOUND: 5, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12, UNAUTHENTICATED: 16 };

const descs = {
  admin: AdminService,
  mgmt: ManagementService,
  idp: IdentityProviderService,
  user: UserServiceV2,
  userBeta: UserServiceV2beta,
  oidc: OIDCService,
};

// A connect-es based flavour: clients maps each service to a client made
// on the flavour's transport.
function connectEs(clients) {
  return {
    async call(svc, method, json, { orgId } = {}) {
      const m = descs[svc].method[method];
      if (!m) throw new Error(`no method ${method} on ${descs[svc].typeName}`);
      const headers = orgId ? { "x-zitadel-orgid": orgId } : undefined;
      let res;
      try {
        res = await clients[svc][method](fromJson(m.input, json), { headers });
      } catch (err) {
        const ce = ConnectError.from(err);
        throw new RPCFailure(ce.code, ce.rawMessage, ce.findDetails(ErrorDetailSchema)[0]?.id);
      }
      return toJson(m.output, res);
    },
    close() {},
  };
}

function zitadelClientFlavour(transport) {
  return connectEs({
    admin: createAdminServiceClient(transport),
    mgmt: createManagementServiceClient(transport),
    idp: createIdpServiceClient(transport),
    user: createUserServiceClient(transport),
    userBeta: createClientFor(UserServiceV2beta)(transport),
    oidc: createOIDCServiceClient(transport),
  });
}

function plainConnectFlavour(transport) {
  return connectEs(Object.fromEntries(Object.entries(descs).map(([k, d]) => [k, createClient(d, transport)])));
}

const bearer = (token) => (next) => (req) => {
  req.header.set("Authorization", `Bearer ${token}`);
  return next(req);
};

function zitadelNodeFlavour(url, token) {
  const auth = createAccessTokenInterceptor(token);
  // The v2 services have no factory in @zitadel/node; build them as its
  // factories do (one channel, the interceptor).
  const channel = createChannel(url);
  const factory = createClientFactory().use(auth);
  const clients = {
    admin: createAdminClient(url, auth),
    mgmt: createManagementClient(url, auth),
    idp: factory.create(IdentityProviderServiceDefinition, channel),
    user: factory.create(UserV2Definition, channel),
    userBeta: createUserClient(url, auth),
    oidc: factory.create(OIDCServiceDefinition, channel),
  };
  const defs = {
    admin: AdminServiceDefinition,
    mgmt: ManagementServiceDefinition,
    idp: IdentityProviderServiceDefinition,
    user: UserV2Definition,
    userBeta: UserV2betaDefinition,
    oidc: OIDCServiceDefinition,
  };
  return {
    async call(svc, method, json, { orgId } = {}) {
      const def = defs[svc].methods[method];
      if (!def) throw new Error(`no method ${method} on ${defs[svc].fullName}`);
      let trailer;
      const options = { onTrailer: (t) => (trailer = t) };
      if (orgId) options.metadata = Metadata({ "x-zitadel-orgid": orgId });
      let res;
      try {
        res = await clients[svc][method](def.requestType.fromJSON(json), options);
      } catch (err) {
        if (!(err instanceof ClientError)) throw err;
        throw new RPCFailure(err.code, err.details, errorDetailID(trailer?.get("grpc-status-details-bin")));
      }
      return def.responseType.toJSON(res);
    },
    close() {
      channel.close();
    },
  };
}

// errorDetailID reads the first zitadel.v1.ErrorDetail's ID out of a
// serialized google.rpc.Status (code = 1, message = 2, repeated Any
// details = 3; Any: type_url = 1, value = 2).
function errorDetailID(bin) {
  if (!bin) return undefined;
  const bytes = typeof bin === "string" ? Buffer.from(bin, "base64") : bin;
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field !== 3) { r.skip(wire); continue; }
    const any = new BinaryReader(r.bytes());
    let type = "", value;
    while (any.pos < any.len) {
      const [f, w] = any.tag();
      if (f === 1) type = any.string();
      else if (f === 2) value = any.bytes();
      else any.skip(w);
    }
    if (type.endsWith("/zitadel.v1.ErrorDetail") && value) return fromBinary(ErrorDetailSchema, value).id;
  }
  return undefined;
}

// flavours: name and connect(url, token) → { call, close }.
export const flavours = [
  {
    name: "@zitadel/client node (gRPC)",
    connect: (url, token) => zitadelClientFlavour(createServerTransport(token, { baseUrl: url, httpVersion: "2" })),
  },
  {
    name: "@zitadel/client web (gRPC-Web)",
    connect: (url, token) => zitadelClientFlavour(createClientTransport(token, { baseUrl: url })),
  },
  {
    name: "connect-es Connect JSON",
    connect: (url, token) =>
      plainConnectFlavour(createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false, interceptors: [bearer(token)] })),
  },
  {
    name: "connect-es Connect binary",
    connect: (url, token) =>
      plainConnectFlavour(createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: true, interceptors: [bearer(token)] })),
  },
  {
    name: "@zitadel/node (grpc-js)",
    connect: (url, token) => zitadelNodeFlavour(url, token),
  },
];
