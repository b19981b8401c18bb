// Array file formats: NumPy .npy and .npz.
export * from './npy';
export * from './npz';
