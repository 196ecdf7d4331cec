/**
 * A credential provider knows some connection parameters of some gateways: environment variables,
 * files of a mounted Kubernetes Secret, or the references in sluice.yaml. The resolver in
 * gateway-credentials.ts asks providers in a configured order; the first that has a parameter wins.
 */

/** A connection parameter's value, as engine adapters take it. */
export type ParameterValue = string | number | boolean;

/** One parameter a provider has: where it comes from, and how to read it when it is chosen. */
export type ProvidedParameter = {
  /**
   * Where the value is read from, for messages: `environment variable NAME`, `file PATH` or
   * `sluice.yaml`. Never the value.
   */
  readonly origin: string;
  /**
   * Reads the value. Only the winning provider's parameter is read, so a reference that a higher
   * provider overrides is never resolved. Throws a `secret_unresolved` SluiceError naming the
   * gateway, the parameter and the variable or file when the value cannot be read.
   *
   * An empty value (an empty variable or file) is returned as it is, for every parameter: an
   * empty password is what a server with trust authentication expects, and telling that apart
   * from a mistake needs the engine, which reports a failed login by itself.
   */
  read(): Promise<ParameterValue>;
};

/** The parameters a provider has for one gateway, by lower-case parameter name. */
export type ProvidedParameters = ReadonlyMap<string, ProvidedParameter>;

/** A source of connection parameters for gateways. */
export type CredentialProvider = {
  /** A short name for messages and configuration: `env`, `files`, `project`. */
  readonly name: string;
  /** The parameters this provider has for the gateway, or undefined when it has none. */
  parametersOf(gateway: string): Promise<ProvidedParameters | undefined>;
};
