# Oracle for main/engine/eval/pca.ts: scikit-learn's PCA (svd_solver='full') on the array X of an NPZ.
# Usage: pca_ref.py data.npz K  ->  JSON {mean, components, explained_variance, explained_variance_ratio, scores}
import json
import sys

import numpy as np
from sklearn.decomposition import PCA

data = np.load(sys.argv[1], allow_pickle=False)
X = data["X"].astype(np.float64)
k = int(sys.argv[2])
p = PCA(n_components=k, svd_solver="full").fit(X)
print(json.dumps({
    "mean": p.mean_.tolist(),
    "components": p.components_.tolist(),
    "explained_variance": p.explained_variance_.tolist(),
    "explained_variance_ratio": p.explained_variance_ratio_.tolist(),
    "scores": p.transform(X).tolist(),
}))
