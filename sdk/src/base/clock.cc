#include "writ/base/clock.h"

namespace writ {

const Clock& Clock::Real() {
  static const SystemClock* const clock = new SystemClock();
  return *clock;
}

}  // namespace writ
