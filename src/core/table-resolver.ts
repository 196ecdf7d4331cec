/**
 * Decides which table a model name stands for when SQL is rendered and written. Before versions
 * exist a model name is its own table; the versions and plans work supplies resolvers that point
 * names at versioned physical tables or at an environment's views.
 */

/** A table's name by parts, as stored (no quotes). */
export type TableName = {
  readonly schema: string;
  readonly name: string;
};

export type TableResolver = {
  /** The table that holds `modelName`, or undefined to keep references as written. */
  resolve(modelName: string): TableName | undefined;
};

/** Keeps every reference as the user wrote it; a model's own table is the one its name says. */
export const AS_WRITTEN: TableResolver = { resolve: () => undefined };

/** The table a model name denotes as written: `shop.orders` → schema `shop`, name `orders`. */
export function tableOfModelName(modelName: string): TableName {
  const parts = modelName.split('.');
  const name = parts.at(-1) ?? modelName;
  const schema = parts.at(-2) ?? '';
  return { schema, name };
}
