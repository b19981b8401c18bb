// Which ONNX operators and opsets Lethe accepts. The default-domain list is the ONNX operator set up
// to opset 21 (what onnxruntime-node 1.30 implements on CPU); ai.onnx.ml covers classical-ML models.
// Anything else (custom domains such as com.microsoft, model-local functions) is refused up front with
// the node named, instead of surfacing as an opaque onnxruntime error.

/** Default-domain opset versions accepted for inference, and for building training graphs. */
export const OPSET_RANGE = {
  inference: { min: 7, max: 21 },
  training: { min: 13, max: 18 },
} as const;

/** ai.onnx.ml opset versions accepted. */
export const ML_OPSET_RANGE = { min: 1, max: 5 } as const;

/** Model IR versions accepted (3 = ONNX 1.0/1.1 ... 10 = ONNX 1.16, 11 = ONNX 1.18; onnxruntime 1.30 reads all). */
export const IR_VERSION_RANGE = { min: 3, max: 11 } as const;

export const DEFAULT_DOMAIN = '';
export const ML_DOMAIN = 'ai.onnx.ml';

/** Normalise a node's domain ('' and 'ai.onnx' are the same default domain). */
export function normDomain(domain: string | undefined): string {
  return !domain || domain === 'ai.onnx' ? DEFAULT_DOMAIN : domain;
}

const DEFAULT_OPS = `
Abs Acos Acosh Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization Bernoulli
BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast CastLike Ceil Celu CenterCropPad Clip
Col2Im Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumSum
DFT DeformConv DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp Expand
EyeLike Flatten Floor GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool
Greater GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish Hardmax
Identity If ImageDecoder InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual
Log LogSoftmax Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean
MeanVarianceNormalization MelWeightMatrix Min Mish Mod Mul Multinomial Neg NegativeLogLikelihoodLoss
NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement OptionalHasElement Or PRelu Pad Pow QLinearConv
QLinearMatMul QuantizeLinear RNN RandomNormal RandomNormalLike RandomUniform RandomUniformLike Range Reciprocal
ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare
RegexFullMatch Relu Reshape Resize ReverseSequence RoiAlign Round STFT Scan Scatter ScatterElements ScatterND Selu
SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert SequenceLength SequenceMap Shape Shrink
Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign SpaceToDepth Split
SplitToSequence Sqrt Squeeze StringConcat StringNormalizer StringSplit Sub Sum Tan Tanh TfIdfVectorizer
ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor
`;

const ML_OPS = `
ArrayFeatureExtractor Binarizer CastMap CategoryMapper DictVectorizer FeatureVectorizer Imputer LabelEncoder
LinearClassifier LinearRegressor Normalizer OneHotEncoder SVMClassifier SVMRegressor Scaler TreeEnsemble
TreeEnsembleClassifier TreeEnsembleRegressor ZipMap
`;

const words = (s: string) => s.split(/\s+/).filter(Boolean);

/** Operators of the default ONNX domain that Lethe accepts. */
export const SUPPORTED_OPS: ReadonlySet<string> = new Set(words(DEFAULT_OPS));

/** Operators of the ai.onnx.ml domain that Lethe accepts. */
export const SUPPORTED_ML_OPS: ReadonlySet<string> = new Set(words(ML_OPS));

/**
 * First default-domain opset in which an operator exists (ops not listed exist since opset 1..7).
 * A model that uses an op before it was defined is refused with a precise message.
 */
export const OP_SINCE: Readonly<Record<string, number>> = {
  Expand: 8,
  Shrink: 9, NonZero: 9, IsNaN: 9, Sign: 9, Sinh: 9, Cosh: 9, Asinh: 9, Acosh: 9, Atanh: 9, Erf: 9, EyeLike: 9,
  Compress: 9, ConstantOfShape: 9, OneHot: 9, Where: 9, Scatter: 9, TfIdfVectorizer: 9, MaxUnpool: 9,
  MeanVarianceNormalization: 9,
  QuantizeLinear: 10, DequantizeLinear: 10, QLinearConv: 10, QLinearMatMul: 10, ConvInteger: 10, MatMulInteger: 10,
  IsInf: 10, Mod: 10, NonMaxSuppression: 10, ReverseSequence: 10, RoiAlign: 10, Resize: 10, StringNormalizer: 10,
  ThresholdedRelu: 10,
  GatherND: 11, ScatterND: 11, ScatterElements: 11, GatherElements: 11, Range: 11, Round: 11, Det: 11, Unique: 11,
  CumSum: 11, SequenceAt: 11, SequenceConstruct: 11, SequenceEmpty: 11, SequenceErase: 11, SequenceInsert: 11,
  SequenceLength: 11, ConcatFromSequence: 11, SplitToSequence: 11, DynamicQuantizeLinear: 11, BitShift: 11,
  Einsum: 12, GreaterOrEqual: 12, LessOrEqual: 12, Celu: 12, NegativeLogLikelihoodLoss: 12, SoftmaxCrossEntropyLoss: 12,
  Trilu: 14, HardSwish: 14,
  CastLike: 15, Optional: 15, OptionalHasElement: 15, OptionalGetElement: 15, Bernoulli: 15,
  GridSample: 16,
  LayerNormalization: 17, DFT: 17, STFT: 17, BlackmanWindow: 17, HannWindow: 17, HammingWindow: 17,
  MelWeightMatrix: 17, SequenceMap: 17,
  GroupNormalization: 18, Mish: 18, CenterCropPad: 18, Col2Im: 18, BitwiseAnd: 18, BitwiseOr: 18, BitwiseXor: 18,
  BitwiseNot: 18,
  DeformConv: 19,
  AffineGrid: 20, Gelu: 20, ImageDecoder: 20, RegexFullMatch: 20, StringConcat: 20, StringSplit: 20,
};

/** Is `op` in `domain` an operator Lethe accepts? */
export function isSupportedOp(op: string, domain: string | undefined): boolean {
  const d = normDomain(domain);
  if (d === DEFAULT_DOMAIN) return SUPPORTED_OPS.has(op);
  if (d === ML_DOMAIN) return SUPPORTED_ML_OPS.has(op);
  return false;
}
