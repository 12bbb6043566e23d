export { demoServicesCommand, registerDemoServices, type ShutdownRequest } from './command.ts';
export {
  BUG_TRACKER_PORT_OFFSET,
  DEFAULT_DEMO_HOST,
  DEFAULT_DEMO_PORT,
  DEMO_ENV,
  DemoListenError,
  type DemoServices,
  type DemoServicesOptions,
  startDemoServices,
} from './start.ts';
