import { SluiceError } from '../../src/core/errors.js';

/** The SluiceError a promise rejects with; fails the test when it resolves or throws another. */
export async function errorOf(promise: Promise<unknown>): Promise<SluiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SluiceError) return error;
    throw error;
  }
  throw new Error('expected a SluiceError');
}
