"""An NNI trial as NNI users write them (this folder is laid out like NNI's
examples/trials/sklearn): a support-vector classifier on scikit-learn's bundled digits,
its hyper-parameters from nni.get_next_parameter(), its test accuracy reported with
nni.report_final_result(). It imports only `nni` and scikit-learn: under archon, the
`nni` module is archon's (python/nni), put first on the trial's path."""
import logging

import nni
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

LOG = logging.getLogger("svc_digits")


def load_data():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, random_state=99, test_size=0.25)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, y_test


def main():
    params = {"C": 1.0, "kernel": "rbf", "degree": 3, "gamma": 0.01, "coef0": 0.01}
    params.update(nni.get_next_parameter())
    LOG.info("parameters: %s", params)
    x_train, x_test, y_train, y_test = load_data()
    model = SVC(C=params["C"], kernel=params["kernel"], degree=params["degree"],
                gamma=params["gamma"], coef0=params["coef0"])
    model.fit(x_train, y_train)
    # One intermediate result (training accuracy), then the final one (test accuracy).
    nni.report_intermediate_result(model.score(x_train, y_train))
    nni.report_final_result(model.score(x_test, y_test))


if __name__ == "__main__":
    main()
