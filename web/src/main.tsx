import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ShellProvider } from './api/context.tsx';
import { App } from './App.tsx';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ShellProvider>
      <App />
    </ShellProvider>
  </StrictMode>,
);
