import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadApi } from './preload-api.ts';

// The window gets verbs only (window.valet), never ipcRenderer itself.
contextBridge.exposeInMainWorld('valet', createPreloadApi(ipcRenderer));
