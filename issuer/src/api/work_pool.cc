#include "issuer/src/api/work_pool.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace writ::issuer {

WorkPool::WorkPool(int threads, size_t max_queued) : max_queued_(std::max<size_t>(1, max_queued)) {
  const int n = std::max(1, threads);
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
}

WorkPool::~WorkPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

bool WorkPool::TrySubmit(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(task));
  return true;
}

size_t WorkPool::DropQueued() {
  std::deque<Task> dropped;
  {
    absl::MutexLock lock(&mu_);
    dropped.swap(queue_);
  }
  return dropped.size();  // destroyed here, outside the lock
}

bool WorkPool::WaitForQueuedForTesting(size_t n, absl::Duration timeout) {
  struct Want {
    const std::deque<Task>* queue;
    size_t n;
  } want{&queue_, n};
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(
                                  +[](Want* w) { return w->queue->size() >= w->n; }, &want),
                              timeout);
}

void WorkPool::Run() {
  pthread_setname_np(pthread_self(), "writ-pool");
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &WorkPool::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping, and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace writ::issuer
