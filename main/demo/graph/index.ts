export { startGraphStandIn } from './server.ts';
export type {
  FaultRule,
  GraphKeySource,
  GraphStandInOptions,
  GraphUser,
  RecordedRequest,
  RunningGraph,
} from './types.ts';
