/**
 * Decides which table a model name stands for when SQL is rendered. Before versions exist a model
 * name is its own table; the versions and plans issues supply resolvers that point names at
 * versioned physical tables or at an environment's views.
 */
export type TableResolver = {
  /** The SQL text of the table for `modelName`, or undefined to keep the reference as written. */
  resolve(modelName: string): string | undefined;
};

/** Keeps every reference as the user wrote it. */
export const AS_WRITTEN: TableResolver = { resolve: () => undefined };
