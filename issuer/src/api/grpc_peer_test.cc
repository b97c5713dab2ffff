#include "gtest/gtest.h"
#include "issuer/src/api/grpc_api.h"

namespace writ::issuer {
namespace {

TEST(GrpcPeerTest, PeerAddressDropsThePort) {
  EXPECT_EQ(PeerAddress("ipv4:10.1.2.3:5000"), "10.1.2.3");
  EXPECT_EQ(PeerAddress("ipv6:[2001:db8::1]:5000"), "2001:db8::1");
  EXPECT_EQ(PeerAddress("ipv6:%5B::1%5D:5000"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:[::ffff:10.1.2.3]:5000"), "10.1.2.3");
  EXPECT_EQ(PeerAddress("unix:/run/writ.sock"), "");
}

TEST(GrpcPeerTest, OnlyExactLoopbackAddressesAreOperators) {
  EXPECT_TRUE(IsLoopbackPeer("ipv4:127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackPeer("ipv6:[::1]:5000"));
  EXPECT_TRUE(IsLoopbackPeer("ipv6:[::ffff:127.0.0.1]:5000"));
  EXPECT_TRUE(IsLoopbackPeer("unix:/run/writ.sock"));
  EXPECT_FALSE(IsLoopbackPeer("ipv4:127.0.0.6:5000"));  // Istio's inbound source
  EXPECT_FALSE(IsLoopbackPeer("ipv4:10.0.0.1:5000"));
  EXPECT_FALSE(IsLoopbackPeer("ipv6:[::2]:5000"));
  EXPECT_FALSE(IsLoopbackPeer("ipv4:127.0.0.1.evil:5000"));
}

}  // namespace
}  // namespace writ::issuer
