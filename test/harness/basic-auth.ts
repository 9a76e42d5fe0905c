/** The `Authorization` header of HTTP Basic, as MLflow's basic-auth clients send it. */
export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
