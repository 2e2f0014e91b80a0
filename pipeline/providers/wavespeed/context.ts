import type { HttpDeps } from './http.ts';
import type { WavespeedPolicy } from './policy.ts';

/** What the client's parts share: the HTTP collaborators and where the key may go. */
export interface ApiContext {
  deps: HttpDeps;
  policy: WavespeedPolicy;
  /** An absolute URL on the API's origin. */
  apiUrl: (path: string) => string;
  /** Headers for a URL: the Authorization header only for the API's own origin. */
  headersFor: (url: string, extra?: Record<string, string>) => Record<string, string>;
}
