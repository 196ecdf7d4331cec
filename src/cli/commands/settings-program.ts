import { Argument, type Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../output.js';
import { STATE_HELP } from './state-program.js';

type GlobalOptions = { project: string; debug: boolean };

/**
 * Registers the cadence settings: `sluice environments cadence NAME on|off` under the
 * `environments` command, and `sluice pause|resume ENV [MODEL]`. They call the Scheduler's API
 * when SLUICE_URL is set and work on the state store otherwise.
 */
export function addSettingsCommands(
  program: Command<[], GlobalOptions>,
  environments: Command<[], { state?: string }, GlobalOptions>,
  context: () => CommandContext,
) {
  const load = () => import('./environment-settings-commands.js');

  // Commander gives options written after `cadence` to `environments`, so it reads --state there.
  environments
    .command('cadence')
    .description("opt an environment in or out of running on its models' crons (prod always is)")
    .argument('<environment>', 'environment, such as dev')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off'] as const))
    .action(async (environment, state) =>
      (await load()).cadenceCommand(context(), environment, state, environments.opts()),
    );

  for (const kind of ['pause', 'resume'] as const) {
    program
      .command(kind)
      .description(
        kind === 'pause'
          ? 'pause an environment, or one model and its downstream models, in the cadence'
          : 'resume a paused environment or model',
      )
      .argument('<environment>', 'environment, such as prod')
      .argument('[model]', 'a model of the environment, such as shop.orders')
      .option('--state <url>', STATE_HELP)
      .action(async (environment, model, options) =>
        (await load()).pauseCommand(context(), kind, environment, model, options),
      );
  }
}
