package reshape

import "github.com/x448/float16"

type f16 = float16.Float16
