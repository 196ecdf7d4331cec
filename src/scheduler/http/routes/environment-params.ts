import { checkEnvironmentName } from '../../../core/environments.js';
import { SluiceError } from '../../../core/errors.js';
import { HttpProblem } from '../api-errors.js';

/** The environment named in a path, checked; a bad name is a 400 naming `params.name`. */
export function checkEnvironmentParam(name: string): string {
  try {
    return checkEnvironmentName(name);
  } catch (error) {
    if (error instanceof SluiceError) {
      throw new HttpProblem(400, 'request_invalid', error.message, 'params.name');
    }
    throw error;
  }
}
