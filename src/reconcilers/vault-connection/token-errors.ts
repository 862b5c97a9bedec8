// The OAuth engine's error codes, as condition reasons. Keyed by code, never by message text. A total
// record: a code added to the catalogue does not compile until it has a reason here.
import { Reason } from '../../api/v1alpha1/conditions.ts';
import type { OAuthErrorCode } from '../../oauth/index.ts';

const reasons: Readonly<Record<OAuthErrorCode, Reason>> = {
  invalid_client: Reason.InvalidClient,
  unauthorized_client: Reason.UnauthorizedClient,
  invalid_grant: Reason.InvalidGrant,
  invalid_scope: Reason.InvalidScope,
  invalid_target: Reason.InvalidTarget,
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

function isOAuthErrorCode(code: string): code is OAuthErrorCode {
  return Object.hasOwn(reasons, code);
}

/** The reason for an error's code; codes from outside the OAuth catalogue are a failed request. */
export function reasonForTokenError(code: string): Reason {
  return isOAuthErrorCode(code) ? reasons[code] : Reason.TokenRequestFailed;
}
