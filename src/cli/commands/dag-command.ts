import type { DagNodeInfo } from '../../core/dag-format.js';
import { formatDagDot, formatDagJson, formatDagText } from '../../core/dag-format.js';
import { SluiceError } from '../../core/errors.js';
import { loadProject } from '../../project/project-loader.js';
import type { CommandContext } from '../output.js';

export type DagFormat = 'text' | 'dot' | 'json';

const FORMATS: readonly DagFormat[] = ['text', 'dot', 'json'];

/** `sluice dag`: prints the models in dependency order, as text, DOT or JSON. */
export async function dagCommand(context: CommandContext, format: string) {
  const chosen = parseFormat(format);
  const project = await loadProject(context.projectDir, { logger: context.logger });

  const info = (name: string): DagNodeInfo => {
    const model = project.models.get(name);
    return { kind: model?.kind.name ?? 'UNKNOWN', file: model?.origin.file };
  };
  const formatters = { text: formatDagText, dot: formatDagDot, json: formatDagJson };
  const text = formatters[chosen](project.dag, info);
  context.output.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function parseFormat(format: string): DagFormat {
  const match = FORMATS.find((candidate) => candidate === format.toLowerCase());
  if (match !== undefined) return match;
  throw new SluiceError('usage', `Unknown format '${format}'; use one of: ${FORMATS.join(', ')}`);
}
