// The OAuth engine's error codes, as condition reasons. Keyed by code, never by message text.
import { Reason } from '../../api/v1alpha1/conditions.ts';

const reasons: Readonly<Record<string, Reason>> = {
  invalid_client: Reason.InvalidClient,
  unauthorized_client: Reason.UnauthorizedClient,
  invalid_grant: Reason.InvalidGrant,
  invalid_scope: Reason.InvalidScope,
  reauthorization_required: Reason.ReauthorizationRequired,
  endpoint_refused: Reason.EndpointRefused,
  insecure_url: Reason.EndpointRefused,
  redirect_refused: Reason.EndpointRefused,
  rate_limited: Reason.RateLimited,
  server_error: Reason.ServerError,
  network: Reason.EndpointUnreachable,
  timeout: Reason.EndpointUnreachable,
  invalid_response: Reason.InvalidResponse,
  response_too_large: Reason.InvalidResponse,
  discovery_failed: Reason.DiscoveryFailed,
  invalid_configuration: Reason.InvalidCredentials,
  oauth_error: Reason.TokenRequestFailed,
};

export function reasonForTokenError(code: string): Reason {
  return reasons[code] ?? Reason.TokenRequestFailed;
}
