import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { readyTaskCounts } from '../../state/tasks/task-queries.js';
import { RevocationList } from '../auth/revocation-list.js';
import { SigningKeys } from '../auth/signing-keys.js';
import { startLeadership } from '../leader/leader-duties.js';
import { TaskDispatcher } from '../queue/task-dispatcher.js';
import { RunService } from '../runs/run-service.js';
import { withSchedulerDuties } from '../runs/scheduler-duties.js';
import { TaskCompletions } from '../runs/task-completions.js';
import { answerFor, sendErrorAnswer } from './api-errors.js';
import { installAuthentication } from './authentication.js';
import { createServiceMetrics } from './metrics.js';
import { installRequestLogging } from './request-logging.js';
import { installRouteTable } from './route-table.js';
import { registerAuditLogRoutes } from './routes/audit-log-routes.js';
import { registerClientRoutes } from './routes/client-routes.js';
import { registerCostRoutes } from './routes/cost-routes.js';
import { registerEnvironmentRoutes } from './routes/environment-routes.js';
import { registerEnvironmentSettingsRoutes } from './routes/environment-settings-routes.js';
import { registerExecutorRoutes } from './routes/executor-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerLogRoutes } from './routes/log-routes.js';
import { registerMetricsRoute } from './routes/metrics-route.js';
import { registerOAuthRoutes } from './routes/oauth-routes.js';
import { registerOpenApiRoute } from './routes/openapi-route.js';
import { registerPlanRoutes } from './routes/plan-routes.js';
import { registerRunRoutes } from './routes/run-routes.js';
import { registerSessionRoutes } from './routes/session-routes.js';
import { registerTaskReadRoutes } from './routes/task-read-routes.js';
import { registerTaskRoutes } from './routes/task-routes.js';
import type { SchedulerApp } from './scheduler-app.js';
import { createServiceContext, type UnboundServiceContext } from './service-context.js';
import {
  type RunningScheduler,
  resolveServiceSettings,
  type SchedulerServiceOptions,
  type ServiceSettings,
} from './service-options.js';
import { zodSerializerCompiler, zodValidatorCompiler } from './zod-compilers.js';

/**
 * The Scheduler's HTTP service: the OAuth 2.0 authorization server, the admin API and the
 * probes, on Fastify. It only answers requests (DESIGN.md section 1) and never imports an engine
 * adapter. Every route declares its access and zod schemas; see route-table.ts.
 */

/** The version of the API the OpenAPI document describes: the `/v1` routes. */
const API_VERSION = '1.0.0';

const JSON_MEDIA_TYPE = 'application/json';

/** Opens the keys and the revocation list on the store, registers the routes and listens. */
export async function startSchedulerService(
  options: SchedulerServiceOptions,
): Promise<RunningScheduler> {
  const settings = resolveServiceSettings(options);
  const logger = options.logger.child({ component: 'scheduler' });
  const context = await openContext(options, settings, logger);

  const app = createApp(settings);
  let dispatcher: TaskDispatcher | undefined;
  try {
    dispatcher = await startDispatcher(context);
    installHandlers(app, context, dispatcher);
    await app.listen({ host: settings.listenHost, port: settings.listenPort });
  } catch (error) {
    await dispatcher?.close();
    await context.runs.close();
    context.revocations.close();
    await app.close();
    throw error;
  }

  const listenUrl = boundUrl(app, settings);
  const url = settings.publicUrl ?? listenUrl;
  context.bind(url);
  logger.info({ url, listenUrl }, 'listening');
  const { store, metrics } = context;
  const duties = withSchedulerDuties(options, {
    store,
    runs: context.runs,
    logger: logger.child({ component: 'leader-duties' }),
    logRetentionMs: settings.logRetentionMs,
    maxAttempts: settings.taskMaxAttempts,
    now: settings.now,
  });
  const leadership = startLeadership({ store, logger, settings, options: duties, metrics });
  return {
    url,
    listenUrl,
    app: app as unknown as FastifyInstance,
    // The leader's duties stop first, while the store and the queue still serve them.
    close: () => leadership.stop().then(() => stopService(app, context, dispatcher)),
  };
}

async function openContext(
  options: SchedulerServiceOptions,
  settings: ServiceSettings,
  logger: Logger,
): Promise<UnboundServiceContext> {
  // The keys and the revocation list name their own component on the caller's logger.
  const keys = await SigningKeys.open(options.store, {
    logger: options.logger,
    ...settings.signingKeys,
  });
  const revocations = await RevocationList.open(options.store, {
    refreshIntervalMs: settings.revocationRefreshMs,
    logger: options.logger,
  });
  const runs = await startRunService(options, settings, logger);
  return createServiceContext({
    runs,
    store: options.store,
    logger,
    settings,
    keys,
    revocations,
    metrics: createServiceMetrics(() => readyTaskCounts(options.store)),
  });
}

/** The runs this Scheduler coordinates, with the watcher of their tasks' endings. */
async function startRunService(
  options: SchedulerServiceOptions,
  settings: ServiceSettings,
  logger: Logger,
): Promise<RunService> {
  const runLogger = logger.child({ component: 'runs' });
  const completions = await TaskCompletions.start(options.store, { logger: runLogger });
  return new RunService({
    store: options.store,
    completions,
    logger: runLogger,
    instanceId: settings.instanceId,
    maxAttempts: settings.taskMaxAttempts,
    heartbeatMs: settings.runHeartbeatMs,
    abandonAfterMs: settings.runAbandonAfterMs,
    now: settings.now,
  });
}

/** The task queue's dispatcher, with the service's lease, retry and cap settings. */
function startDispatcher(context: UnboundServiceContext): Promise<TaskDispatcher> {
  const { settings } = context;
  return TaskDispatcher.start({
    store: context.store,
    logger: context.logger.child({ component: 'task-dispatcher' }),
    leaseMs: settings.leaseSec * 1000,
    caps: settings.concurrencyCaps,
    retry: settings.retryBackoff,
    reapIntervalMs: settings.reapIntervalMs,
    now: settings.now,
  });
}

function createApp(settings: ServiceSettings): SchedulerApp {
  const app = Fastify({
    // The service logs for itself (request-logging.ts): Fastify's own request log would write
    // raw URLs, query strings included.
    logger: false,
    bodyLimit: settings.bodyLimitBytes,
    trustProxy: settings.shouldTrustProxy,
    // On close, idle keep-alive connections end at once; requests in flight finish first.
    forceCloseConnections: 'idle',
    exposeHeadRoutes: false,
    ...(settings.tls === undefined ? {} : { https: { ...settings.tls } }),
  });
  // HTTP and HTTPS servers hand routes the same request and response classes.
  return app.withTypeProvider() as unknown as SchedulerApp;
}

function installHandlers(
  app: SchedulerApp,
  context: UnboundServiceContext,
  dispatcher: TaskDispatcher,
): void {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);
  const routes = installRouteTable(app as unknown as FastifyInstance);
  installAuthentication(app, context);
  installRequestLogging(app, context);
  installErrorAnswers(app, context);
  installConnectionDraining(app);

  registerHealthRoutes(app, context);
  registerMetricsRoute(app, context);
  registerOAuthRoutes(app, context);
  registerOpenApiRoute(app, context, routes, API_VERSION);
  registerSessionRoutes(app);
  registerClientRoutes(app, context);
  registerAuditLogRoutes(app, context);
  registerEnvironmentRoutes(app, context);
  registerEnvironmentSettingsRoutes(app, context);
  registerExecutorRoutes(app, context);
  registerTaskRoutes(app, context, dispatcher);
  registerLogRoutes(app, context);
  registerCostRoutes(app, context);
  registerPlanRoutes(app, context);
  registerRunRoutes(app, context);
  registerTaskReadRoutes(app, context);
}

function installErrorAnswers(app: SchedulerApp, context: UnboundServiceContext): void {
  // Only JSON bodies are read by the API; text/plain, Fastify's other default, is refused (415).
  app.removeContentTypeParser('text/plain');
  const errorContext = {
    bodyLimitBytes: context.settings.bodyLimitBytes,
    mediaType: JSON_MEDIA_TYPE,
  };

  app.setErrorHandler((error, request, reply) =>
    sendErrorAnswer(answerFor(error, errorContext), request, reply, context.logger),
  );
  app.setNotFoundHandler((_request, reply) =>
    // The path is not repeated: it is caller text, and could hold anything.
    reply.code(404).send({
      error: {
        code: 'not_found',
        message: 'No endpoint answers this method and path; the API is described at /openapi.json',
      },
    }),
  );
}

/**
 * Once closing has begun, answers end their connection: a keep-alive connection whose request
 * was in flight would otherwise stay open, and hold up the close, until its idle timeout.
 */
function installConnectionDraining(app: SchedulerApp): void {
  let isClosing = false;
  app.addHook('preClose', async () => {
    isClosing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (isClosing) reply.header('connection', 'close');
    return payload;
  });
}

/** The URL of the address actually bound, for when no public URL is given. */
function boundUrl(app: SchedulerApp, settings: ServiceSettings): string {
  const scheme = settings.tls === undefined ? 'http' : 'https';
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

async function stopService(
  app: SchedulerApp,
  context: UnboundServiceContext,
  dispatcher: TaskDispatcher,
): Promise<void> {
  context.logger.info({}, 'stopping');
  // Waiting claims answer 204 at once, so that closing need not wait out their polls.
  await dispatcher.close();
  await app.close();
  // Runs coordinated here cannot go on without this process: they end as cancelled.
  await context.runs.close();
  context.revocations.close();
  context.logger.info({}, 'stopped');
}
