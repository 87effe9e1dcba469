/**
 * @apollo/gateway 2 sends usage metrics to Apollo and probes cloud metadata endpoints
 * (AWS, GCP, Azure, Alibaba) unless APOLLO_TELEMETRY_DISABLED is set when a gateway is
 * constructed. A government exchange never reports to a third party or leaves its network,
 * so every gateway this project builds turns it off first.
 */
export function disableApolloTelemetry(): void {
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
}
