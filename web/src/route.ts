import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'overview' }
  | { view: 'matrix' }
  | { view: 'upgrade' }
  | { view: 'guest'; name: string }
  | { view: 'missing'; hash: string };

/** #/, #/matrix, #/upgrade, #/guests/NAME */
export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '/overview') return { view: 'overview' };
  if (path === '/matrix') return { view: 'matrix' };
  if (path === '/upgrade') return { view: 'upgrade' };
  const g = /^\/guests\/(.+)$/.exec(path);
  if (g?.[1]) {
    try {
      return { view: 'guest', name: decodeURIComponent(g[1]) };
    } catch {
      return { view: 'missing', hash };
    }
  }
  return { view: 'missing', hash };
}

export const guestHref = (name: string): string => `#/guests/${encodeURIComponent(name)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
