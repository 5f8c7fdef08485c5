// An app's certificate credential for tests: the demo's own maker, under the names tests use.
export {
  createAppCertificate as createClientCertificate,
  type AppCertificate as ClientCertificate,
} from '../../main/demo/idp/index.ts';
