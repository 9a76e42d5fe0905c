import { Shell } from './components/shell';
import { Empty } from './components/states';
import { href, matchRoute, useLocation } from './router';
import { ROUTES } from './routes';

export function App() {
  const loc = useLocation();
  const match = matchRoute(ROUTES, loc.path);
  return (
    <Shell path={loc.path}>
      {match ? (
        match.route.render(match.params, loc.query)
      ) : (
        <div className="page">
          <Empty title="Page not found">
            Nothing lives at <code>{loc.path}</code>. <a href={href('/experiments')}>Go to experiments</a>.
          </Empty>
        </div>
      )}
    </Shell>
  );
}
