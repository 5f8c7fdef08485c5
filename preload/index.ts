import { contextBridge } from 'electron';

// The renderer gets verbs only, never ipcRenderer itself.
contextBridge.exposeInMainWorld('valet', Object.freeze({ shell: 'electron' }));
