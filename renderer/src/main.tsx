import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { currentApi } from './api/current-api.ts';
// One stylesheet, emitted by Vite as a file: the CSP allows styles from 'self' only.
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('The page has no #root element');
void currentApi().then((api) =>
  createRoot(root).render(
    <StrictMode>
      <App api={api} />
    </StrictMode>,
  ),
);
